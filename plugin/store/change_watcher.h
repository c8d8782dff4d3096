// Tells the caches when anything they read may have changed, without a stat() per lookup:
// an inotify watch on each directory holding a cached file (writers replace whole files with
// rename(), create, delete or rewrite them: all are directory events). poll() drains the
// events once per lookup and advances the epoch when there were any; a cache entry checked in
// the current epoch, in a watched directory, is still valid.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "file_util.h"

namespace vstore {

class ChangeWatcher {
public:
    ChangeWatcher();
    ChangeWatcher(const ChangeWatcher &) = delete;
    ChangeWatcher &operator=(const ChangeWatcher &) = delete;

    // Drains pending events (one read(), non-blocking); returns the current epoch.
    uint64_t poll();
    uint64_t epoch() const { return epoch_; }

    // Watches the directory holding `path` (or, if that directory does not exist, its parent,
    // whose events announce the directory's creation). Returns false when no watch could be
    // set, in which case results for `path` must not be cached.
    bool watch_parent_of(const std::string &path);

    bool enabled() const { return static_cast<bool>(fd_); }

private:
    bool watch_dir(const std::string &dir);

    UniqueFd fd_;
    uint64_t epoch_ = 1;
    std::unordered_map<int, std::string> dirs_by_wd_;
    std::unordered_set<std::string> watched_;
};

std::string parent_dir(const std::string &path);

}  // namespace vstore
