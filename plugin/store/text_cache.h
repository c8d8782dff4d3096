// Small text files (limits, defaultdomain, a text vpasswd) read once and re-read only when
// stat() shows they changed.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "change_watcher.h"
#include "file_util.h"

namespace vstore {

class TextFileCache {
public:
    struct Result {
        std::shared_ptr<const std::string> content;  // null unless read
        bool missing = false;
        std::string error;
        bool watched = false;  // the watcher will announce a change of this result
    };

    TextFileCache(size_t max_bytes, ChangeWatcher *watcher = nullptr, size_t max_entries = 4096)
        : max_bytes_(max_bytes), max_entries_(max_entries), watcher_(watcher)
    {
    }
    Result get(const std::string &path);

private:
    struct Entry {
        FileStamp stamp;
        std::shared_ptr<const std::string> content;  // null: the file was missing
        uint64_t epoch = 0;
        bool watched = false;
    };
    size_t max_bytes_, max_entries_;
    ChangeWatcher *watcher_;
    std::unordered_map<std::string, Entry> files_;
};

}  // namespace vstore
