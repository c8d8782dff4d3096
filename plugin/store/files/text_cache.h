// Small text files (limits, defaultdomain, a text vpasswd) read once and re-read only when
// they changed (see WatchedFileCache).
#pragma once

#include <memory>
#include <string>

#include "change_watcher.h"
#include "file_access.h"
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

    TextFileCache(size_t max_bytes, FileAccess &files = own_rights_files(), ChangeWatcher *watcher = nullptr,
                  size_t max_entries = 4096);
    // `reader`: whose rights the file is read with (null: the process's); see WatchedFileCache.
    Result get(const std::string &path, const FsOwner *reader = nullptr);

private:
    WatchedFileCache<const std::string> cache_;
};

}  // namespace vstore
