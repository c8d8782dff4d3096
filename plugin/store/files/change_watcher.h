// Tells the caches when anything they read may have changed, without a stat() per lookup:
// an inotify watch on each directory holding a cached file (writers replace whole files with
// rename(), create, delete or rewrite them: all are directory events). poll() drains the
// events once per lookup and advances the epoch when there were any; a cache entry checked in
// the current epoch, in a watched directory, is still valid.
//
// inotify reports only what this kernel wrote: on a file system that other hosts write (NFS,
// CIFS, FUSE, cluster file systems) it misses their changes. Such directories are not
// watched, and what comes from them is checked with stat() at every lookup, as Dovecot's
// passwd-file does; how stale that can be is then the file system's attribute cache.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "file_access.h"
#include "file_util.h"

namespace vstore {

// shared_fs: auto (statfs() tells, per directory), yes (never trust inotify), no (always).
enum class SharedFs { Auto, Yes, No };

// Whether inotify sees every change on a file system of this statfs() f_type: local disk
// and memory file systems, yes; network, cluster and FUSE file systems and anything not
// known here, no.
bool change_notification_trusted(unsigned long f_type);

class ChangeWatcher {
public:
    // files: how the watched directories are reached (statfs(), inotify_add_watch()).
    explicit ChangeWatcher(SharedFs shared_fs = SharedFs::Auto, FileAccess &files = own_rights_files());
    ChangeWatcher(const ChangeWatcher &) = delete;
    ChangeWatcher &operator=(const ChangeWatcher &) = delete;

    // Drains pending events (one read(), non-blocking); returns the current epoch.
    uint64_t poll();
    uint64_t epoch() const { return epoch_; }

    // Watches the directory holding `path` (or, if that directory does not exist, its parent,
    // whose events announce the directory's creation). Returns false when no watch could be
    // set or the directory's file system is shared, in which case results for `path` must be
    // checked at every use. reader: whose rights the directory is watched with (null: the
    // process's own).
    bool watch_parent_of(const std::string &path, const FsOwner *reader = nullptr);

    bool enabled() const { return static_cast<bool>(fd_); }

private:
    bool watch_dir(const std::string &dir, const FsOwner *reader);

    FileAccess &files_;
    UniqueFd fd_;
    SharedFs shared_fs_;
    uint64_t epoch_ = 1;
    std::unordered_set<std::string> shared_;  // directories on a shared file system
    std::unordered_map<int, std::string> dirs_by_wd_;
    std::unordered_set<std::string> watched_;
};

std::string parent_dir(const std::string &path);

}  // namespace vstore
