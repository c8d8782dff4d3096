// A read-only cdb file (tinycdb, mmap'ed) and a cache that reopens it when it is replaced.
#pragma once

#include <cdb.h>

#include <memory>
#include <string>
#include <string_view>

#include "change_watcher.h"
#include "file_util.h"
#include "watched_cache.h"

namespace vstore {

class CdbFile {
public:
    enum class Status { Found, NotFound, Corrupt };
    struct Hit {
        Status status = Status::NotFound;
        std::string_view value;  // points into the mapping; valid while the CdbFile lives
    };

    // Opens and maps path. On failure returns nullptr and sets missing/error.
    static std::shared_ptr<CdbFile> open(const std::string &path, bool *missing, std::string *error);

    CdbFile(const CdbFile &) = delete;
    CdbFile &operator=(const CdbFile &) = delete;
    ~CdbFile();

    const std::string &path() const { return path_; }
    const FileStamp &stamp() const { return stamp_; }

    // Standard cdb lookup (tinycdb: unsigned-char hash).
    Hit find(std::string_view key) const;
    // Same lookup with the hash computed through signed char, as writers compiled with a
    // signed `char` (vmailmgr on x86) do for key bytes >= 0x80.
    Hit find_signed_char_hash(std::string_view key) const;

    // Sequential scan: set *pos = 0 first. Returns 1 with the next record, 0 at the end,
    // -1 if the file is corrupt.
    int next(unsigned *pos, std::string_view *key, std::string_view *value) const;

private:
    CdbFile(std::string path, UniqueFd fd, const FileStamp &stamp);

    std::string path_;
    UniqueFd fd_;
    FileStamp stamp_;
    mutable struct cdb cdb_ {};
    bool initialised_ = false;
};

// Keeps recently used cdb files open and mapped; a file replaced by rename() (vadduser,
// vmkpasswd and vmailmgr's writers all replace the whole file) is reopened on the next get().
class CdbCache {
public:
    struct Result {
        std::shared_ptr<CdbFile> file;  // null unless opened
        bool missing = false;           // ENOENT
        std::string error;              // set on any other failure
        bool watched = false;           // the watcher will announce a change of this result
    };

    // With a watcher, an entry checked in the watcher's current epoch is reused without a
    // stat(); without one, every get() stats the file.
    explicit CdbCache(ChangeWatcher *watcher = nullptr, size_t max_entries = 4096);
    Result get(const std::string &path);

private:
    WatchedFileCache<CdbFile> cache_;
};

// cdb's hash over bytes taken as unsigned char (the standard) or as signed char.
uint32_t cdb_hash_unsigned(std::string_view key);
uint32_t cdb_hash_signed(std::string_view key);

}  // namespace vstore
