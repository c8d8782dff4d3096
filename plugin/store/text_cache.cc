#include "text_cache.h"

#include <sys/stat.h>

#include <cerrno>

namespace vstore {

TextFileCache::Result TextFileCache::get(const std::string &path)
{
    Result r;
    auto it = files_.find(path);
    if (watcher_ != nullptr && it != files_.end() && it->second.watched &&
        it->second.epoch == watcher_->epoch()) {
        r.content = it->second.content;
        r.missing = r.content == nullptr;
        r.watched = true;
        if (r.missing)
            r.error = "stat(" + path + ") failed: No such file or directory";
        return r;
    }
    const bool watched = watcher_ != nullptr && watcher_->watch_parent_of(path);
    r.watched = watched;
    const uint64_t epoch = watcher_ != nullptr ? watcher_->epoch() : 0;
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) {
        int err = errno;
        r.missing = err == ENOENT;
        r.error = errno_message("stat", path, err);
        if (r.missing && watched && files_.size() < max_entries_)
            files_[path] = Entry{FileStamp(), nullptr, epoch, true};
        else
            files_.erase(path);
        return r;
    }
    if (it != files_.end() && it->second.content != nullptr && it->second.stamp == FileStamp::of(st)) {
        it->second.epoch = epoch;
        it->second.watched = watched;
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
    if (files_.size() >= max_entries_ && files_.count(path) == 0)
        files_.clear();
    r.content = std::make_shared<const std::string>(std::move(rd.content));
    files_[path] = Entry{rd.stamp, r.content, epoch, watched};
    return r;
}

}  // namespace vstore
