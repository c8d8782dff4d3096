#include "change_watcher.h"

#include <sys/inotify.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>


namespace vstore {

namespace {

constexpr uint32_t kDirEvents = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY |
                                IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

bool change_notification_trusted(unsigned long f_type)
{
    switch (static_cast<uint32_t>(f_type)) {
    case 0xEF53:      // ext2, ext3, ext4
    case 0x58465342:  // xfs
    case 0x9123683E:  // btrfs
    case 0x01021994:  // tmpfs
    case 0x858458F6:  // ramfs
    case 0x2FC12FC1:  // zfs
    case 0xF2F52010:  // f2fs
    case 0x52654973:  // reiserfs
    case 0x3153464A:  // jfs
    case 0xCA451A4E:  // bcachefs
    case 0x794C7630:  // overlayfs (changes made through this mount)
    case 0x73717368:  // squashfs (read-only)
        return true;
    default:
        return false;  // NFS, CIFS/SMB, FUSE, 9p, Ceph, Lustre, OCFS2, GFS2, AFS, unknown
    }
}

std::string parent_dir(const std::string &path)
{
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos)
        return ".";
    if (slash == 0)
        return "/";
    return path.substr(0, slash);
}

ChangeWatcher::ChangeWatcher(SharedFs shared_fs, FileAccess &files)
    : files_(files), fd_(shared_fs == SharedFs::Yes ? -1 : inotify_init1(IN_NONBLOCK | IN_CLOEXEC)),
      shared_fs_(shared_fs)
{
}

uint64_t ChangeWatcher::poll()
{
    if (!fd_)
        return ++epoch_;  // no inotify: every lookup revalidates
    alignas(struct inotify_event) char buf[16384];
    bool changed = false;
    for (;;) {
        ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
        if (n <= 0)
            break;
        changed = true;
        for (ssize_t off = 0; off < n;) {
            const auto *ev = reinterpret_cast<const struct inotify_event *>(buf + off);
            if ((ev->mask & (IN_IGNORED | IN_MOVE_SELF | IN_DELETE_SELF)) != 0) {
                // The directory went away or moved (its watch would follow it to its new
                // name): forget it, so the next use watches whatever has that name then.
                auto it = dirs_by_wd_.find(ev->wd);
                if (it != dirs_by_wd_.end()) {
                    if ((ev->mask & IN_IGNORED) == 0)
                        inotify_rm_watch(fd_.get(), ev->wd);
                    watched_.erase(it->second);
                    dirs_by_wd_.erase(it);
                }
            }
            off += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
        }
        if (static_cast<size_t>(n) < sizeof(buf) - sizeof(struct inotify_event) - 256)
            break;
    }
    if (changed)
        epoch_++;
    return epoch_;
}

bool ChangeWatcher::watch_dir(const std::string &dir, const FsOwner *reader)
{
    if (watched_.count(dir) != 0)
        return true;
    if (shared_.count(dir) != 0) {
        errno = 0;
        return false;
    }
    if (shared_fs_ == SharedFs::Auto) {
        unsigned long type = 0;
        if (const FsStatus s = files_.statfs_type(reader, dir, &type); !s.ok()) {
            errno = s.err;
            return false;  // errno tells the caller whether the directory exists
        }
        if (!change_notification_trusted(type)) {
            if (shared_.size() < 100000)
                shared_.insert(dir);
            errno = 0;
            return false;
        }
    }
    int wd = -1;
    if (const FsStatus s = files_.add_watch(reader, fd_.get(), dir, kDirEvents, &wd); !s.ok()) {
        errno = s.err;
        return false;
    }
    // A moved directory keeps its wd under a new name; one wd may then serve two names.
    dirs_by_wd_[wd] = dir;
    watched_.insert(dir);
    return true;
}

bool ChangeWatcher::watch_parent_of(const std::string &path, const FsOwner *reader)
{
    if (!fd_)
        return false;
    const std::string dir = parent_dir(path);
    if (watch_dir(dir, reader))
        return true;
    if (errno != ENOENT && errno != ENOTDIR)
        return false;
    return dir != "/" && watch_dir(parent_dir(dir), reader);
}

}  // namespace vstore
