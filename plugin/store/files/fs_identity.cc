#include "fs_identity.h"

#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

}  // namespace

bool can_switch_fs_identity() { return ::geteuid() == 0; }

ScopedFsIdentity::ScopedFsIdentity(const FsOwner &owner)
{
    if (!can_switch_fs_identity())
        return;
    if (owner.uid == 0 || owner.gid == 0) {
        // Root's rights are what this guards against; a store never names root as its owner.
        error_ = owner.what + " has uid or gid 0: refusing to open its files as root";
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
    if (!switched_)
        return;
    // fsuid back to 0 first: that restores the file capabilities setfsuid() dropped.
    ::setfsuid(::geteuid());
    ::setfsgid(::getegid());
    thread_setgroups(saved_groups_.size(), saved_groups_.data());
}

}  // namespace vstore
