// Small text files (limits, defaultdomain, a text vpasswd) read once and re-read only when
// they changed (see WatchedFileCache).
#pragma once

#include <memory>
#include <string>

#include "change_watcher.h"
#include "file_util.h"
#include "watched_cache.h"

namespace vstore {

class TextFileCache {
public:
    struct Result {
        std::shared_ptr<const std::string> content;  // null unless read
        bool missing = false;
        std::string error;
        bool watched = false;  // the watcher will announce a change of this result
        FileStamp stamp;       // the version loaded, when set
    };

    TextFileCache(size_t max_bytes, ChangeWatcher *watcher = nullptr, size_t max_entries = 4096);
    // `reader` tells whose rights the file is read with (cached apart per reader).
    Result get(const std::string &path, uid_t reader = 0);

private:
    WatchedFileCache<const std::string> cache_;
};

}  // namespace vstore
