// How a store reaches its files: an interface handed to each store (ninja's DiskInterface),
// so that whose rights a call runs with is visible where it is made, not decided by the
// thread it runs on. Every call names the owner whose rights it takes (null: the process's
// own) and answers with an errno and, when there is more to say than strerror() (what the
// store broker refused, an identity that could not be taken), the reason.
//
// Three ways in, chosen once by whoever builds the store:
//   own_rights_files()    the process's rights for every call: vstore run by a user, tests;
//   owner_rights_files()  a root process: each call as the owner (setfsuid, setfsgid, no
//                         other group, this thread only): the auth workers under stock
//                         settings, vstore run as root, the store broker itself;
//   fs_broker::files()    an auth process that gave up root: through the store broker
//                         (fs_broker.h), which makes the owner_rights_files() call for it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "file_util.h"
#include "fs_owner.h"

namespace vstore {

// A file call's answer: 0 or an errno, and what to say beyond strerror() (else empty).
struct FsStatus {
    int err = 0;
    std::string detail;

    bool ok() const { return err == 0; }
    // "call(path) failed: " and the detail, or strerror(err) without one.
    std::string message(const char *call, const std::string &path) const;
};

class FileAccess {
public:
    virtual ~FileAccess() = default;

    virtual FsStatus lstat(const FsOwner *owner, const std::string &path, struct stat *st) = 0;
    // O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY: a link, a FIFO or a
    // terminal cannot make the caller follow, block or take a controlling tty.
    virtual FsStatus open_read(const FsOwner *owner, const std::string &path, UniqueFd *fd) = 0;
    virtual FsStatus statfs_type(const FsOwner *owner, const std::string &dir, unsigned long *type) = 0;
    virtual FsStatus add_watch(const FsOwner *owner, int inotify_fd, const std::string &dir, uint32_t mask,
                               int *wd) = 0;
    // replace_file_in_dir(dir, "lastauth", content) (file_util.h): the only write a store
    // makes. Its detail, when set, is the whole message ("open(dir) failed: ...").
    virtual FsStatus replace_lastauth(const FsOwner &owner, const std::string &dir, const std::string &content) = 0;
};

FileAccess &own_rights_files();
FileAccess &owner_rights_files();
// owner_rights_files() when this process is root, else own_rights_files().
FileAccess &this_process_files();

// Opens a store file for reading the only safe way, as `owner`: O_NOFOLLOW (the last
// component may not be a link), O_NONBLOCK (a FIFO cannot block the open), then fstat() and
// anything but a regular file refused. On failure: an invalid fd, *missing for ENOENT, and
// *error saying what the path is ("... is a FIFO, not a regular file", "... is a symbolic
// link").
UniqueFd open_regular_file(FileAccess &files, const FsOwner *owner, const std::string &path, struct stat *st,
                           bool *missing, std::string *error);

// Reads a regular file whole (open_regular_file), refusing anything larger than max_bytes.
ReadResult read_file(FileAccess &files, const FsOwner *owner, const std::string &path, size_t max_bytes);
// The same with the process's own rights (own_rights_files()).
ReadResult read_file(const std::string &path, size_t max_bytes);

}  // namespace vstore
