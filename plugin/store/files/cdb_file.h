// A read-only cdb file, read whole into memory at open when small (up to 1 MiB, 16 MiB in
// all), else with pread() at each lookup; and a cache that reopens it when it is replaced.
//
// Every lookup does bounded work whatever the file says: at most kMaxProbes hash slots and
// kMaxHashMatches records with the key's hash are read, and no record over kMaxValueBytes is
// returned (its size is checked before any memory is taken). An honest cdb (cdbmake, tinycdb,
// vmailmgr: tables twice as large as their records) needs a few probes; a file that needs more
// is Corrupt, a store fault of that store only, rather than a scan on the auth process's event
// loop that every other tenant waits behind.
//
// Not mmap(): a store file is writable by its owner, who can truncate it in place, and a
// mapped page past the new end kills the reader with SIGBUS (on NFS, so can a file replaced
// on another host). A copy is a snapshot; pread() turns a truncation into a short read or an
// error: a store fault for this lookup, and the next lookup reopens the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "change_watcher.h"
#include "file_access.h"
#include "file_util.h"
#include "watched_cache.h"

namespace vstore {

class CdbFile {
public:
    enum class Status { Found, NotFound, Corrupt };
    struct Hit {
        Status status = Status::NotFound;
        std::string value;  // when Found
        std::string error;  // when Corrupt: what is wrong, or the read error
    };

    // Bounds of one lookup (see the top of this file).
    static constexpr uint32_t kMaxProbes = 256;
    static constexpr unsigned kMaxHashMatches = 8;
    // Largest value a lookup or next() returns: a vpasswd value or a vmailmgr record is a few
    // hundred bytes. Callers may ask for less.
    static constexpr uint32_t kMaxValueBytes = 64u << 10;
    // Largest key next() returns (a lookup's key is the caller's).
    static constexpr uint32_t kMaxKeyBytes = 4096;

    // Opens path (open_regular_file) and reads its header. On failure returns nullptr and
    // sets missing/error.
    static std::shared_ptr<CdbFile> open(FileAccess &files, const FsOwner *reader, const std::string &path,
                                         bool *missing, std::string *error);
    // The same with the process's own rights.
    static std::shared_ptr<CdbFile> open(const std::string &path, bool *missing, std::string *error)
    {
        return open(own_rights_files(), nullptr, path, missing, error);
    }

    CdbFile(const CdbFile &) = delete;
    CdbFile &operator=(const CdbFile &) = delete;
    ~CdbFile();

    const std::string &path() const { return path_; }
    const FileStamp &stamp() const { return stamp_; }
    // Read with pread() only because its path (or too much of all paths) was copied within
    // the last second: the cache opens it again, with a copy, once that second has passed.
    bool copy_deferred() const { return copy_deferred_; }

    // Standard cdb lookup (the hash over unsigned char, as tinycdb and djb's cdb). A value
    // longer than max_value bytes is Corrupt ("... a record of N bytes for KEY ...").
    Hit find(std::string_view key, uint32_t max_value = kMaxValueBytes) const;
    // Same lookup with the hash computed through signed char, as writers compiled with a
    // signed `char` (vmailmgr on x86) do for key bytes >= 0x80.
    Hit find_signed_char_hash(std::string_view key, uint32_t max_value = kMaxValueBytes) const;

    // Sequential scan: set *pos = 0 first. Returns 1 with the next record, 0 at the end,
    // -1 if the file is corrupt or cannot be read (*error says which, when given), or the
    // record's key is over kMaxKeyBytes or its value over max_value. One record per call.
    int next(unsigned *pos, std::string *key, std::string *value, std::string *error = nullptr,
             uint32_t max_value = kMaxValueBytes) const;

private:
    CdbFile(std::string path, UniqueFd fd, const FileStamp &stamp, uint32_t size);
    Hit find_hashed(std::string_view key, uint32_t hash, uint32_t max_value) const;
    // Reads the record at pos; *matches tells whether its key is `key` (value filled then,
    // unless it is over max_value: an error).
    bool read_record(uint32_t pos, std::string_view key, uint32_t max_value, bool *matches, std::string *value,
                     std::string *error) const;
    // The record at pos for next(): key and value within their caps, *size its length.
    bool read_next_record(uint32_t pos, uint32_t max_value, std::string *key, std::string *value, uint32_t *size,
                          std::string *error) const;
    // len bytes at pos, from the copy or the file; false with *error on a short read.
    bool read(void *buf, size_t len, uint32_t pos, std::string *error) const;

    std::string path_;
    UniqueFd fd_;
    FileStamp stamp_;
    uint32_t size_;
    uint32_t data_end_ = 0;  // where the records end and the hash tables begin
    unsigned char header_[2048] = {};
    std::string copy_;  // the whole file, when small enough (cdb_file.cc)
    bool copy_deferred_ = false;  // small enough, but copied too recently (cdb_file.cc)
};

// Keeps recently used cdb files open; a file replaced by rename() (vadduser, vmkpasswd and
// vmailmgr's writers all replace the whole file) is reopened on the next get().
class CdbCache {
public:
    struct Result {
        std::shared_ptr<CdbFile> file;  // null unless opened
        bool missing = false;           // ENOENT
        std::string error;              // set on any other failure
        bool watched = false;           // the watcher will announce a change of this result
        FileStamp stamp;       // the version loaded, when set
    };

    // With a watcher, an entry checked in the watcher's current epoch, in a directory whose
    // change notification can be trusted, is reused without a stat(); otherwise every get()
    // stats the file.
    explicit CdbCache(FileAccess &files = own_rights_files(), ChangeWatcher *watcher = nullptr,
                      size_t max_entries = 4096);
    // `reader`: whose rights the file is opened with (null: the process's); see WatchedFileCache.
    Result get(const std::string &path, const FsOwner *reader = nullptr);

private:
    WatchedFileCache<CdbFile> cache_;
};

// cdb's hash over bytes taken as unsigned char (the standard) or as signed char.
uint32_t cdb_hash_unsigned(std::string_view key);
uint32_t cdb_hash_signed(std::string_view key);

}  // namespace vstore
