#include "text_cache.h"

namespace vstore {

TextFileCache::TextFileCache(size_t max_bytes, FileAccess &files, ChangeWatcher *watcher, size_t max_entries)
    : cache_(files, watcher, max_entries,
             [max_bytes](FileAccess &f, const FsOwner *reader, const std::string &path, bool *missing,
                         std::string *error) -> std::shared_ptr<const std::string> {
                 ReadResult rd = read_file(f, reader, path, max_bytes);
                 if (rd.status != ReadStatus::Ok) {
                     *missing = rd.status == ReadStatus::Missing;
                     *error = rd.error;
                     return nullptr;
                 }
                 return std::make_shared<const std::string>(std::move(rd.content));
             })
{
}

TextFileCache::Result TextFileCache::get(const std::string &path, const FsOwner *reader)
{
    auto r = cache_.get(path, reader);
    return Result{std::move(r.value), r.missing, std::move(r.error), r.watched, r.stamp};
}

}  // namespace vstore
