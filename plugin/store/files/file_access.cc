#include "file_access.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fs_identity.h"

namespace vstore {

std::string FsStatus::message(const char *call, const std::string &path) const
{
    return std::string(call) + "(" + path + ") failed: " + (detail.empty() ? std::strerror(err) : detail);
}

namespace {

FsStatus from_errno(int err) { return FsStatus{err, std::string()}; }

// The system calls themselves, with whatever rights this thread has.
FsStatus do_lstat(const std::string &path, struct stat *st)
{
    return from_errno(::lstat(path.c_str(), st) == 0 ? 0 : errno);
}

FsStatus do_open_read(const std::string &path, UniqueFd *fd)
{
    *fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    return from_errno(*fd ? 0 : errno);
}

FsStatus do_statfs_type(const std::string &dir, unsigned long *type)
{
    struct statfs fs;
    if (::statfs(dir.c_str(), &fs) < 0)
        return from_errno(errno);
    *type = static_cast<unsigned long>(fs.f_type);
    return FsStatus();
}

FsStatus do_add_watch(int inotify_fd, const std::string &dir, uint32_t mask, int *wd)
{
    *wd = ::inotify_add_watch(inotify_fd, dir.c_str(), mask);
    return from_errno(*wd < 0 ? errno : 0);
}

FsStatus do_replace_lastauth(const std::string &dir, const std::string &content)
{
    FsStatus s;
    if (!replace_file_in_dir(dir, "lastauth", content, &s.detail))
        s.err = EIO;
    return s;
}

class OwnRightsFiles final : public FileAccess {
public:
    FsStatus lstat(const FsOwner *, const std::string &path, struct stat *st) override { return do_lstat(path, st); }
    FsStatus open_read(const FsOwner *, const std::string &path, UniqueFd *fd) override
    {
        return do_open_read(path, fd);
    }
    FsStatus statfs_type(const FsOwner *, const std::string &dir, unsigned long *type) override
    {
        return do_statfs_type(dir, type);
    }
    FsStatus add_watch(const FsOwner *, int inotify_fd, const std::string &dir, uint32_t mask, int *wd) override
    {
        return do_add_watch(inotify_fd, dir, mask, wd);
    }
    FsStatus replace_lastauth(const FsOwner &, const std::string &dir, const std::string &content) override
    {
        return do_replace_lastauth(dir, content);
    }
};

// Each call inside a ScopedFsIdentity of its owner; a call without one has the process's
// rights (root's files, such as users/cdb, that any user may read). In a process that is
// not root, ScopedFsIdentity changes nothing: the process's own rights.
class OwnerRightsFiles final : public FileAccess {
public:
    FsStatus lstat(const FsOwner *owner, const std::string &path, struct stat *st) override
    {
        return as(owner, [&] { return do_lstat(path, st); });
    }
    FsStatus open_read(const FsOwner *owner, const std::string &path, UniqueFd *fd) override
    {
        return as(owner, [&] { return do_open_read(path, fd); });
    }
    FsStatus statfs_type(const FsOwner *owner, const std::string &dir, unsigned long *type) override
    {
        return as(owner, [&] { return do_statfs_type(dir, type); });
    }
    FsStatus add_watch(const FsOwner *owner, int inotify_fd, const std::string &dir, uint32_t mask, int *wd) override
    {
        return as(owner, [&] { return do_add_watch(inotify_fd, dir, mask, wd); });
    }
    FsStatus replace_lastauth(const FsOwner &owner, const std::string &dir, const std::string &content) override
    {
        return as(&owner, [&] { return do_replace_lastauth(dir, content); });
    }

private:
    template <class Call>
    static FsStatus as(const FsOwner *owner, Call call)
    {
        if (owner == nullptr)
            return call();
        ScopedFsIdentity identity(*owner);
        if (!identity.ok())  // a switch that did not take is a fault: nothing is touched
            return FsStatus{EPERM, identity.error()};
        return call();
    }
};

}  // namespace

FileAccess &own_rights_files()
{
    static OwnRightsFiles files;
    return files;
}

FileAccess &owner_rights_files()
{
    static OwnerRightsFiles files;
    return files;
}

UniqueFd open_regular_file(FileAccess &files, const FsOwner *owner, const std::string &path, struct stat *st,
                           bool *missing, std::string *error)
{
    *missing = false;
    UniqueFd fd;
    if (const FsStatus s = files.open_read(owner, path, &fd); !s.ok()) {
        *missing = s.err == ENOENT;
        if (s.err == ELOOP)
            *error = path + " is a symbolic link: store files are opened without following links";
        else if (s.err == EISDIR)  // the store broker hands over no directory
            *error = path + " is a directory, not a regular file";
        else
            *error = s.message("open", path);
        return fd;
    }
    if (::fstat(fd.get(), st) < 0) {
        *error = errno_message("fstat", path, errno);
        return UniqueFd();
    }
    if (!S_ISREG(st->st_mode)) {
        *error = path + " is " + file_kind(st->st_mode) + ", not a regular file";
        return UniqueFd();
    }
    return fd;
}

ReadResult read_file(FileAccess &files, const FsOwner *owner, const std::string &path, size_t max_bytes)
{
    ReadResult r;
    struct stat st;
    bool missing = false;
    UniqueFd fd = open_regular_file(files, owner, path, &st, &missing, &r.error);
    if (!fd) {
        r.status = missing ? ReadStatus::Missing : ReadStatus::Error;
        return r;
    }
    if (static_cast<unsigned long long>(st.st_size) > max_bytes) {
        r.error = path + " is too large (" + std::to_string(st.st_size) + " bytes, limit " +
                  std::to_string(max_bytes) + ")";
        return r;
    }
    r.stamp = FileStamp::of(st);
    r.content.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < r.content.size()) {
        ssize_t n = ::read(fd.get(), &r.content[done], r.content.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r.error = errno_message("read", path, errno);
            r.content.clear();
            return r;
        }
        if (n == 0)
            break;  // shrank while we read: keep what is there
        done += static_cast<size_t>(n);
    }
    r.content.resize(done);
    r.status = ReadStatus::Ok;
    return r;
}

ReadResult read_file(const std::string &path, size_t max_bytes)
{
    return read_file(own_rights_files(), nullptr, path, max_bytes);
}

FileAccess &this_process_files() { return can_switch_fs_identity() ? owner_rights_files() : own_rights_files(); }

}  // namespace vstore
