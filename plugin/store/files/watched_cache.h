// A cache of things loaded from files (open cdb files, small text files), checked against
// the file system the cheap way: an entry checked in the ChangeWatcher's current epoch, in a
// watched directory, is reused as it is; otherwise one lstat() tells whether the file is the
// same version (reuse), gone (remembered as missing) or replaced or rewritten (reload). A
// version loaded while its ctime was recent is reloaded at the next lstat() whatever its
// stamp says (FileStamp::recently_changed()): a rewrite in the same clock tick keeps the
// stamp. A reader (a store file's owner) is whose rights the lstat() and the load run with
// (through the cache's FileAccess); entries are kept per reader, so one never gets
// what only another could open.
#pragma once

#include <sys/stat.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "change_watcher.h"
#include "file_util.h"
#include "file_access.h"

namespace vstore {

// The files a state derived from them was built from, as they were then (or that they were
// missing). Where change notification cannot be trusted, lstat() of each tells whether the
// state is still current, without opening or parsing anything.
class FileSources {
public:
    // reader: whose rights the file was read with (null: the process's own)
    void add(const std::string &path, const FileStamp *stamp, const FsOwner *reader = nullptr)
    {
        files_.push_back(Source{path, stamp == nullptr ? std::nullopt : std::optional<FileStamp>(*stamp),
                                reader == nullptr ? std::nullopt : std::optional<FsOwner>(*reader),
                                stamp != nullptr && stamp->recently_changed()});
    }
    bool unchanged(FileAccess &files) const
    {
        if (files_.empty())
            return false;
        for (const Source &f : files_) {
            if (f.recent)
                return false;
            struct stat st;
            const int err = files.lstat(f.reader ? &*f.reader : nullptr, f.path, &st).err;
            if ((err == 0) != f.stamp.has_value() || (err == 0 && FileStamp::of(st) != *f.stamp))
                return false;
            if (err != 0 && err != ENOENT)
                return false;
        }
        return true;
    }

private:
    struct Source {
        std::string path;
        std::optional<FileStamp> stamp;
        std::optional<FsOwner> reader;
        bool recent = false;  // read while recently changed: its stamp alone is not trusted
    };
    std::vector<Source> files_;
};

template <class T>
class WatchedFileCache {
public:
    struct Result {
        std::shared_ptr<T> value;  // null unless loaded
        bool missing = false;      // ENOENT
        std::string error;         // set whenever value is null
        bool watched = false;      // the watcher will announce a change of this result
        FileStamp stamp;           // the version loaded, when value is set
    };
    // Loads path (which stat() just found) as reader; on failure returns null and sets
    // missing/error.
    using Loader = std::function<std::shared_ptr<T>(FileAccess &files, const FsOwner *reader, const std::string &path,
                                                    bool *missing, std::string *error)>;

    WatchedFileCache(FileAccess &files, ChangeWatcher *watcher, size_t max_entries, Loader load)
        : files_(files), watcher_(watcher), max_entries_(max_entries), load_(std::move(load))
    {
    }

    // reader: whose rights the file is read with; null: the process's own.
    Result get(const std::string &path, const FsOwner *reader = nullptr)
    {
        Result r;
        const std::string key = key_of(path, reader);
        auto it = entries_.find(key);
        if (watcher_ != nullptr && it != entries_.end() && it->second.watched && it->second.epoch == watcher_->epoch()) {
            r.value = it->second.value;
            r.missing = r.value == nullptr;
            r.watched = true;
            r.stamp = it->second.stamp;
            if (r.missing)
                r.error = "stat(" + path + ") failed: No such file or directory";
            return r;
        }
        // Watch before looking, so that a change right after the stat() is not missed.
        r.watched = watcher_ != nullptr && watcher_->watch_parent_of(path, reader);
        const uint64_t epoch = watcher_ != nullptr ? watcher_->epoch() : 0;
        struct stat st;
        if (const FsStatus s = files_.lstat(reader, path, &st); !s.ok()) {
            r.missing = s.err == ENOENT;
            r.error = s.message("stat", path);
            if (r.missing && r.watched && entries_.size() < max_entries_)
                entries_[key] = Entry{nullptr, FileStamp(), epoch, true, false};
            else
                entries_.erase(key);
            return r;
        }
        if (it != entries_.end() && it->second.value != nullptr && !it->second.recent &&
            it->second.stamp == FileStamp::of(st)) {
            it->second.epoch = epoch;
            it->second.watched = r.watched;
            r.value = it->second.value;
            r.stamp = it->second.stamp;
            return r;
        }
        r.value = load_(files_, reader, path, &r.missing, &r.error);
        if (r.value == nullptr) {
            entries_.erase(key);
            return r;
        }
        if (entries_.size() >= max_entries_ && entries_.count(key) == 0)
            entries_.clear();  // crude but bounded: the next lookups reload what they need
        r.stamp = FileStamp::of(st);
        entries_[key] = Entry{r.value, r.stamp, epoch, r.watched, r.stamp.recently_changed()};
        return r;
    }

    // Drops what is kept for path and reader: the next get() loads it again.
    void forget(const std::string &path, const FsOwner *reader = nullptr) { entries_.erase(key_of(path, reader)); }

private:
    static std::string key_of(const std::string &path, const FsOwner *reader)
    {
        std::string key = path;
        key.push_back('\0');
        key += reader == nullptr ? std::string("-") : std::to_string(reader->uid);
        return key;
    }

    struct Entry {
        std::shared_ptr<T> value;  // null: the file was missing
        FileStamp stamp;
        uint64_t epoch = 0;
        bool watched = false;
        bool recent = false;  // loaded while recently changed: reloaded at the next lstat()
    };
    FileAccess &files_;
    ChangeWatcher *watcher_;
    size_t max_entries_;
    Loader load_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace vstore
