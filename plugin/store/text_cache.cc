#include "text_cache.h"

#include <sys/stat.h>

#include <cerrno>

namespace vstore {

TextFileCache::Result TextFileCache::get(const std::string &path)
{
    Result r;
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) {
        int err = errno;
        files_.erase(path);
        r.missing = err == ENOENT;
        r.error = errno_message("stat", path, err);
        return r;
    }
    auto it = files_.find(path);
    if (it != files_.end() && it->second.stamp == FileStamp::of(st)) {
        r.content = it->second.content;
        return r;
    }
    ReadResult rd = read_file(path, max_bytes_);
    if (rd.status != ReadStatus::Ok) {
        files_.erase(path);
        r.missing = rd.status == ReadStatus::Missing;
        r.error = rd.error;
        return r;
    }
    if (files_.size() >= max_entries_ && it == files_.end())
        files_.clear();
    r.content = std::make_shared<const std::string>(std::move(rd.content));
    files_[path] = Entry{rd.stamp, r.content};
    return r;
}

}  // namespace vstore
