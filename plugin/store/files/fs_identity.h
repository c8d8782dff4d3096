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

#include <string>
#include <vector>

#include "fs_owner.h"

namespace vstore {

// While alive, this thread opens, creates and stats files as `owner`: with fsuid, fsgid and
// no other group when the process runs as root; otherwise it changes nothing. The stores
// do not take it themselves: owner_rights_files() (file_access.h) takes one around each
// call. Construct, then check ok(): a switch that did not take is a fault, and nothing may
// be opened.
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
    std::string error_;
};

// Whether ScopedFsIdentity switches in this process (it runs as root).
bool can_switch_fs_identity();

}  // namespace vstore
