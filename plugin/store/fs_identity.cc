#include "fs_identity.h"

#include <fcntl.h>
#include <sys/fsuid.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fs_broker.h"

namespace vstore {

namespace {

// Per-thread: the raw system call, not glibc's setgroups(), which changes every thread.
int thread_setgroups(size_t n, const gid_t *groups)
{
    return static_cast<int>(::syscall(SYS_setgroups, n, groups));
}

// setfsuid()/setfsgid() return the previous id and never fail visibly: ask again to see
// whether the change took.
bool set_fsuid(uid_t uid)
{
    ::setfsuid(uid);
    return static_cast<uid_t>(::setfsuid(static_cast<uid_t>(-1))) == uid;
}

bool set_fsgid(gid_t gid)
{
    ::setfsgid(gid);
    return static_cast<gid_t>(::setfsgid(static_cast<gid_t>(-1))) == gid;
}

// The owner the store broker acts for on this thread (innermost ScopedFsIdentity).
thread_local const FsOwner *tl_brokered_owner = nullptr;

const FsOwner *brokered_owner() { return tl_brokered_owner; }

}  // namespace

bool can_switch_fs_identity() { return ::geteuid() == 0; }

ScopedFsIdentity::ScopedFsIdentity(const FsOwner &owner)
{
    const bool brokered = !can_switch_fs_identity() && fs_broker::active();
    if (!can_switch_fs_identity() && !brokered)
        return;
    if (owner.uid == 0 || owner.gid == 0) {
        // Root's rights are what this guards against; a store never names root as its owner.
        error_ = owner.what + " has uid or gid 0: refusing to open its files as root";
        return;
    }
    if (brokered) {
        brokered_ = owner;
        outer_brokered_ = tl_brokered_owner;
        tl_brokered_owner = &*brokered_;
        return;
    }
    int n = ::getgroups(0, nullptr);
    if (n < 0) {
        error_ = std::string("getgroups() failed: ") + std::strerror(errno);
        return;
    }
    saved_groups_.resize(static_cast<size_t>(n));
    if (n > 0 && ::getgroups(n, saved_groups_.data()) != n) {
        error_ = std::string("getgroups() failed: ") + std::strerror(errno);
        return;
    }
    switched_ = true;  // from here the destructor restores whatever was changed
    if (thread_setgroups(1, &owner.gid) < 0) {
        error_ = "cannot drop supplementary groups for " + owner.what + ": " + std::strerror(errno);
        return;
    }
    if (!set_fsgid(owner.gid) || !set_fsuid(owner.uid))
        error_ = "cannot take the file system identity of " + owner.what + " (uid " +
                 std::to_string(owner.uid) + ", gid " + std::to_string(owner.gid) + ")";
}

ScopedFsIdentity::~ScopedFsIdentity()
{
    if (brokered_)
        tl_brokered_owner = outer_brokered_;
    if (!switched_)
        return;
    // fsuid back to 0 first: that restores the file capabilities setfsuid() dropped.
    ::setfsuid(::geteuid());
    ::setfsgid(::getegid());
    thread_setgroups(saved_groups_.size(), saved_groups_.data());
}

namespace owner_fs {

int lstat(const std::string &path, struct stat *st)
{
    if (const FsOwner *o = brokered_owner())
        return fs_broker::lstat(*o, path, st);
    fs_broker::note_local_call();
    return ::lstat(path.c_str(), st) == 0 ? 0 : errno;
}

int open_read(const std::string &path, UniqueFd *fd)
{
    if (const FsOwner *o = brokered_owner())
        return fs_broker::open_read(*o, path, fd);
    fs_broker::note_local_call();
    *fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    return *fd ? 0 : errno;
}

int statfs_type(const std::string &dir, unsigned long *type)
{
    if (const FsOwner *o = brokered_owner())
        return fs_broker::statfs_type(*o, dir, type);
    fs_broker::note_local_call();
    struct statfs fs;
    if (::statfs(dir.c_str(), &fs) < 0)
        return errno;
    *type = static_cast<unsigned long>(fs.f_type);
    return 0;
}

int add_watch(int inotify_fd, const std::string &dir, uint32_t mask, int *wd)
{
    if (const FsOwner *o = brokered_owner())
        return fs_broker::add_watch(*o, inotify_fd, dir, mask, wd);
    fs_broker::note_local_call();
    *wd = ::inotify_add_watch(inotify_fd, dir.c_str(), mask);
    return *wd < 0 ? errno : 0;
}

bool replace_lastauth(const std::string &dir, const std::string &content, std::string *error)
{
    if (const FsOwner *o = brokered_owner())
        return fs_broker::replace_lastauth(*o, dir, content, error) == 0;
    fs_broker::note_local_call();
    return replace_file_in_dir(dir, "lastauth", content, error);
}

}  // namespace owner_fs

}  // namespace vstore
