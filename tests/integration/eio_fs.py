#!/usr/bin/env python3
"""A pass-through FUSE file system for the sharedfs suite: mirrors BACKING at MOUNTPOINT, and
read() fails with EIO for every file whose path (relative to BACKING) is a line of CONTROL,
for as long as CONTROL exists. Everything else passes through, writes included (vpopmail's
lastauth is written through the mount), with the real owners and modes: mount as root, with
allow_other and default_permissions, so that a process whose fsuid is the store owner gets
exactly the access it has on the backing directory.

    eio_fs.py BACKING MOUNTPOINT CONTROL      (runs in the foreground until unmounted)

Needs Debian's python3-fusepy (libfuse2): run it with /usr/bin/python3."""

import errno
import os
import sys

try:
    from fusepy import FUSE, FuseOSError, Operations, fuse_get_context  # Debian's python3-fusepy
except ImportError:
    from fuse import FUSE, FuseOSError, Operations, fuse_get_context


class EioFs(Operations):
    def __init__(self, root, control):
        self.root = os.path.realpath(root)
        self.control = control

    def _full(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def _failing(self, path):
        try:
            with open(self.control) as f:
                names = {l.strip().lstrip("/") for l in f if l.strip()}
        except FileNotFoundError:
            return False
        return path.lstrip("/") in names

    @staticmethod
    def _call(fn, *args):
        try:
            return fn(*args)
        except OSError as e:
            raise FuseOSError(e.errno)

    def getattr(self, path, fh=None):
        st = self._call(os.lstat, self._full(path))
        return {k: getattr(st, k) for k in ("st_mode", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid",
                                             "st_size", "st_atime", "st_mtime", "st_ctime")}

    def readdir(self, path, fh):
        return [".", ".."] + self._call(os.listdir, self._full(path))

    def readlink(self, path):
        return self._call(os.readlink, self._full(path))

    def statfs(self, path):
        s = self._call(os.statvfs, self._full(path))
        return {k: getattr(s, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree",
                                            "f_files", "f_flag", "f_frsize", "f_namemax")}

    def open(self, path, flags):
        return self._call(os.open, self._full(path), flags)

    def create(self, path, mode, fi=None):
        full = self._full(path)
        fd = self._call(os.open, full, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        uid, gid, _pid = fuse_get_context()
        os.fchown(fd, uid, gid)
        return fd

    def read(self, path, size, offset, fh):
        if self._failing(path):
            raise FuseOSError(errno.EIO)
        return self._call(os.pread, fh, size, offset)

    def write(self, path, data, offset, fh):
        return self._call(os.pwrite, fh, data, offset)

    def truncate(self, path, length, fh=None):
        if fh is not None:
            self._call(os.ftruncate, fh, length)
        else:
            self._call(os.truncate, self._full(path), length)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        self._call(os.fdatasync if datasync else os.fsync, fh)

    def release(self, path, fh):
        os.close(fh)

    def unlink(self, path):
        self._call(os.unlink, self._full(path))

    def rename(self, old, new):
        self._call(os.rename, self._full(old), self._full(new))

    def mkdir(self, path, mode):
        full = self._full(path)
        self._call(os.mkdir, full, mode)
        uid, gid, _pid = fuse_get_context()
        os.chown(full, uid, gid)

    def rmdir(self, path):
        self._call(os.rmdir, self._full(path))

    def chmod(self, path, mode):
        self._call(os.chmod, self._full(path), mode)

    def chown(self, path, uid, gid):
        self._call(os.lchown, self._full(path), uid, gid)

    def utimens(self, path, times=None):
        self._call(os.utime, self._full(path), times)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    backing, mountpoint, control = sys.argv[1:]
    # 1 s kernel caches for names, attributes and missing names, as bindfs is mounted
    FUSE(EioFs(backing, control), mountpoint, foreground=True, allow_other=True, default_permissions=True,
         use_ino=True, fsname="eio_fs", attr_timeout=1, entry_timeout=1, negative_timeout=1)


if __name__ == "__main__":
    main()
