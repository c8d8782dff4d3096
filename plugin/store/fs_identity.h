// The rights a store file is opened with: its owner's, never the process's own when that is
// root. Stock Dovecot runs the auth workers as root while the stores are written by the
// vpopmail uid or a vmailmgr base user; a path in a record (a user's directory, a
// password-file setting) must not reach what its writer could not.
//
// Linux keeps the filesystem uid/gid and the supplementary groups per thread (the raw system
// calls change only the calling thread; glibc's setgroups() would change every thread), so
// switching here does not touch the verification threads or the rest of the process.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "file_util.h"

namespace vstore {

struct FsOwner {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string what;  // who this is, for messages: "domain example.com", "base user exorg"
};

// While alive, this thread opens, creates and stats files as `owner`: with fsuid, fsgid and
// no other group when the process runs as root; through the store broker (fs_broker.h) when
// the process gave up root and started one; otherwise with the process's own rights. The
// calls below take it. Construct, then check ok(): a switch that did not take is a fault,
// and nothing may be opened.
class ScopedFsIdentity {
public:
    explicit ScopedFsIdentity(const FsOwner &owner);
    ~ScopedFsIdentity();
    ScopedFsIdentity(const ScopedFsIdentity &) = delete;
    ScopedFsIdentity &operator=(const ScopedFsIdentity &) = delete;

    bool ok() const { return error_.empty(); }
    const std::string &error() const { return error_; }
    bool switched() const { return switched_; }

private:
    bool switched_ = false;
    std::vector<gid_t> saved_groups_;
    std::optional<FsOwner> brokered_;  // the owner the broker acts for
    const FsOwner *outer_brokered_ = nullptr;
    std::string error_;
};

// Whether ScopedFsIdentity switches in this process (it runs as root).
bool can_switch_fs_identity();

// The file calls of the stores, with the rights of this thread's innermost ScopedFsIdentity
// (the process's own without one). Each returns 0 or an errno; errno_message() then says
// what the broker said, when it was asked.
namespace owner_fs {
int lstat(const std::string &path, struct stat *st);
// O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY
int open_read(const std::string &path, UniqueFd *fd);
int statfs_type(const std::string &dir, unsigned long *type);
int add_watch(int inotify_fd, const std::string &dir, uint32_t mask, int *wd);
// replace_file_in_dir(dir, "lastauth", content); false with *error.
bool replace_lastauth(const std::string &dir, const std::string &content, std::string *error);
}  // namespace owner_fs

}  // namespace vstore
