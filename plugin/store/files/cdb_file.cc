#include "cdb_file.h"

#include <atomic>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace vstore {

namespace {

constexpr unsigned kHeaderSize = 2048;
constexpr size_t kSlotsPerRead = 16;     // hash slots read with one pread()
constexpr size_t kRecordReadAhead = 512;  // bytes past a record's key read with its header

uint32_t le32(const unsigned char *p)
{
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

uint32_t cdb_hash_unsigned(std::string_view key)
{
    uint32_t h = 5381;
    for (unsigned char c : key)
        h = ((h << 5) + h) ^ c;
    return h;
}

uint32_t cdb_hash_signed(std::string_view key)
{
    uint32_t h = 5381;
    for (char c : key)
        h = ((h << 5) + h) ^ static_cast<uint32_t>(static_cast<int32_t>(static_cast<signed char>(c)));
    return h;
}

namespace {

// A small cdb is read whole at open and looked up in memory: no system call per lookup, and a
// snapshot that an in-place rewrite cannot change. Larger ones, and any past the budget of
// copies this process holds, are read with pread() at each lookup: as fast to the reader, and
// what any owner's files can pin of the auth process's memory (vsz_limit 256 MiB) stays small.
// 8 MiB holds a domain of about 40000 users, so an honest site's big domain stays in memory;
// owners that fill the budget first only send the others' lookups to pread(), a few us each.
constexpr uint32_t kCopyMax = 8u << 20;
constexpr size_t kCopyBudget = 32u << 20;
std::atomic<size_t> copied_bytes{0};

// Takes n bytes of the budget, or nothing when they do not fit (checked and taken at once).
bool reserve_copy(size_t n)
{
    size_t now = copied_bytes.load();
    do {
        if (n > kCopyMax || n > kCopyBudget - now)
            return false;
    } while (!copied_bytes.compare_exchange_weak(now, now + n));
    return true;
}

// When each path was last copied. An owner can make the cache open its file again at every
// lookup (a chmod changes the ctime, so the file's version); each copy costs the auth
// process's one thread up to kCopyMax of reading. A path is copied at most once a second,
// and all paths together at most kCopyBudget bytes a second (the vpopmail uid owns every
// domain's file); in between a file is read with pread(). So what one owner's lookups cost
// everyone does not grow with its files' sizes.
constexpr auto kCopyEvery = std::chrono::seconds(1);
constexpr size_t kCopyTimesKept = 4096;
struct CopyTimes {
    std::mutex mutex;
    struct Copy {
        std::chrono::steady_clock::time_point at;
        FileStamp version;
    };
    std::unordered_map<std::string, Copy> last;
    std::chrono::steady_clock::time_point window;  // the second bytes_in_window counts in
    size_t bytes_in_window = 0;
};
CopyTimes copy_times;

bool copied_within_a_second(const std::string &path)
{
    std::lock_guard<std::mutex> lock(copy_times.mutex);
    const auto it = copy_times.last.find(path);
    return it != copy_times.last.end() && std::chrono::steady_clock::now() - it->second.at < kCopyEvery;
}

// Whether n bytes of this version of path may be copied now; if so, the copy is counted. The
// same version opened again (another reader's cache, a re-read after a change within a
// clock tick) may be copied again at once: only a new version each time is what an owner
// can repeat at will.
bool may_copy_now(const std::string &path, const FileStamp &version, size_t n)
{
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(copy_times.mutex);
    const auto it = copy_times.last.find(path);
    if (it != copy_times.last.end() && now - it->second.at < kCopyEvery && it->second.version != version)
        return false;
    if (now - copy_times.window >= kCopyEvery) {
        copy_times.window = now;
        copy_times.bytes_in_window = 0;
    }
    if (n > kCopyBudget - copy_times.bytes_in_window)
        return false;
    copy_times.bytes_in_window += n;
    if (copy_times.last.size() >= kCopyTimesKept)
        copy_times.last.clear();  // crude but bounded: at worst a path is copied once more
    copy_times.last[path] = CopyTimes::Copy{now, version};
    return true;
}

}  // namespace

CdbFile::CdbFile(std::string path, UniqueFd fd, const FileStamp &stamp, uint32_t size)
    : path_(std::move(path)), fd_(std::move(fd)), stamp_(stamp), size_(size)
{
}

CdbFile::~CdbFile()
{
    if (!copy_.empty())
        copied_bytes -= copy_.size();
}

bool CdbFile::read(void *buf, size_t len, uint32_t pos, std::string *error) const
{
    if (copy_.empty())
        return pread_full(fd_.get(), buf, len, pos, path_, error);
    if (pos > copy_.size() || len > copy_.size() - pos) {
        *error = path_ + " is shorter than its header says";
        return false;
    }
    std::memcpy(buf, copy_.data() + pos, len);
    return true;
}

std::shared_ptr<CdbFile> CdbFile::open(FileAccess &files, const FsOwner *reader, const std::string &path,
                                       bool *missing, std::string *error)
{
    struct stat st;
    UniqueFd fd = open_regular_file(files, reader, path, &st, missing, error);
    if (!fd)
        return nullptr;
    if (st.st_size < static_cast<off_t>(kHeaderSize)) {
        *error = path + " is truncated: " + std::to_string(st.st_size) +
                 " bytes, a cdb has at least a 2048-byte header";
        return nullptr;
    }
    if (st.st_size > 0xffffffffLL) {
        *error = path + " is larger than a cdb can be (4 GiB)";
        return nullptr;
    }
    std::shared_ptr<CdbFile> f(new CdbFile(path, std::move(fd), FileStamp::of(st), static_cast<uint32_t>(st.st_size)));
    if (f->size_ <= kCopyMax && !may_copy_now(path, f->stamp_, f->size_)) {
        f->copy_deferred_ = true;
    } else if (reserve_copy(f->size_)) {
        std::string copy(f->size_, '\0');
        if (!pread_full(f->fd_.get(), &copy[0], copy.size(), 0, path, error)) {
            copied_bytes -= f->size_;
            return nullptr;
        }
        f->copy_ = std::move(copy);
    }
    if (!f->read(f->header_, kHeaderSize, 0, error))
        return nullptr;
    // The records end where the first hash table starts. An empty table's position is not
    // used by any lookup, and not every writer sets it: only tables with slots count.
    uint32_t end = f->size_;
    for (unsigned i = 0; i < 256; i++) {
        const uint32_t table = le32(f->header_ + i * 8);
        const uint32_t slots = le32(f->header_ + i * 8 + 4);
        if (slots == 0)
            continue;
        if (table < kHeaderSize || table > f->size_ || slots > (f->size_ - table) / 8) {
            *error = path + " is corrupt: hash table " + std::to_string(i) + " lies outside the file";
            return nullptr;
        }
        end = std::min(end, table);
    }
    f->data_end_ = end;
    return f;
}

bool CdbFile::read_record(uint32_t pos, std::string_view key, uint32_t max_value, bool *matches, std::string *value,
                          std::string *error) const
{
    *matches = false;
    if (pos < kHeaderSize || pos > data_end_ || data_end_ - pos < 8) {
        *error = path_ + " is corrupt: a record at " + std::to_string(pos) + " lies outside the data";
        return false;
    }
    unsigned char buf[8 + 256 + kRecordReadAhead];
    const size_t want = std::min<size_t>(8 + std::min<size_t>(key.size(), 256) + kRecordReadAhead, data_end_ - pos);
    if (!read(buf, want, pos, error))
        return false;
    const uint32_t klen = le32(buf), dlen = le32(buf + 4);
    if (static_cast<uint64_t>(klen) + dlen > data_end_ - pos - 8) {
        *error = path_ + " is corrupt: the record at " + std::to_string(pos) + " runs past the data";
        return false;
    }
    if (klen != key.size())
        return true;
    // The key is in what was read ahead, or read alone: it is as long as the caller's key.
    std::string far_key;
    const char *k = reinterpret_cast<const char *>(buf) + 8;
    if (8 + static_cast<size_t>(klen) > want) {
        far_key.resize(klen);
        if (!read(&far_key[0], klen, pos + 8, error))
            return false;
        k = far_key.data();
    }
    if (klen != 0 && std::memcmp(k, key.data(), klen) != 0)
        return true;
    // The size is checked before the value takes any memory.
    if (dlen > max_value) {
        *error = path_ + " is corrupt: the record of " + std::to_string(dlen) + " bytes for " + std::string(key) +
                 " is larger than " + std::to_string(max_value) + " bytes, the most a record may hold";
        return false;
    }
    if (8 + static_cast<size_t>(klen) + dlen <= want) {
        value->assign(reinterpret_cast<const char *>(buf) + 8 + klen, dlen);
    } else {
        value->assign(dlen, '\0');
        if (!read(&(*value)[0], dlen, pos + 8 + klen, error)) {
            value->clear();
            return false;
        }
    }
    *matches = true;
    return true;
}

namespace {

CdbFile::Hit corrupt(std::string reason)
{
    CdbFile::Hit hit;
    hit.status = CdbFile::Status::Corrupt;
    hit.error = std::move(reason);
    return hit;
}

}  // namespace

CdbFile::Hit CdbFile::find_hashed(std::string_view key, uint32_t h, uint32_t max_value) const
{
    const unsigned bucket = h & 255;
    const uint32_t table = le32(header_ + bucket * 8), nslots = le32(header_ + bucket * 8 + 4);
    if (nslots == 0)
        return Hit();
    // However many slots the table claims, only kMaxProbes of them are read: every writer
    // leaves half of a table empty, so an honest chain ends at an empty slot long before.
    const uint32_t budget = std::min(nslots, kMaxProbes);
    uint32_t slot = (h >> 8) % nslots;
    unsigned other_keys = 0;  // records read whose hash is the key's but whose key is not
    unsigned char buf[kSlotsPerRead * 8];
    for (uint32_t seen = 0; seen < budget;) {
        const size_t n = std::min<size_t>({kSlotsPerRead, nslots - slot, budget - seen});
        Hit hit;
        // (open() checked that every table lies inside the file, which is below 4 GiB)
        if (!read(buf, n * 8, static_cast<uint32_t>(table + slot * 8ULL), &hit.error))
            return corrupt(std::move(hit.error));
        for (size_t i = 0; i < n; i++) {
            const uint32_t rhash = le32(buf + i * 8), rpos = le32(buf + i * 8 + 4);
            if (rpos == 0)
                return hit;
            if (rhash != h)
                continue;
            bool matches = false;
            if (!read_record(rpos, key, max_value, &matches, &hit.value, &hit.error))
                return corrupt(std::move(hit.error));
            if (matches) {
                hit.status = Status::Found;
                return hit;
            }
            if (++other_keys >= kMaxHashMatches)
                return corrupt(path_ + " is corrupt: hash table " + std::to_string(bucket) + " holds " +
                               std::to_string(other_keys) + " other keys with the hash of " + std::string(key) +
                               " on its way");
        }
        seen += static_cast<uint32_t>(n);
        slot += static_cast<uint32_t>(n);
        if (slot == nslots)
            slot = 0;
    }
    if (budget == nslots)
        return corrupt(path_ + " is corrupt: hash table " + std::to_string(bucket) + " (" + std::to_string(nslots) +
                       " slots) has no empty slot");
    return corrupt(path_ + " is corrupt: hash table " + std::to_string(bucket) + " (" + std::to_string(nslots) +
                   " slots) has no empty slot in the " + std::to_string(kMaxProbes) + " slots from where " +
                   std::string(key) + " starts; a cdb writer leaves half of every table empty");
}

CdbFile::Hit CdbFile::find(std::string_view key, uint32_t max_value) const
{
    return find_hashed(key, cdb_hash_unsigned(key), max_value);
}

CdbFile::Hit CdbFile::find_signed_char_hash(std::string_view key, uint32_t max_value) const
{
    return find_hashed(key, cdb_hash_signed(key), max_value);
}

bool CdbFile::read_next_record(uint32_t pos, uint32_t max_value, std::string *key, std::string *value, uint32_t *size,
                               std::string *error) const
{
    if (data_end_ - pos < 8) {
        *error = path_ + " is corrupt: a partial record at " + std::to_string(pos);
        return false;
    }
    // One read for the header and, usually, the whole record.
    char buf[4096];
    const size_t got = std::min<size_t>(sizeof(buf), data_end_ - pos);
    if (!read(buf, got, pos, error))
        return false;
    const uint32_t klen = le32(reinterpret_cast<unsigned char *>(buf));
    const uint32_t dlen = le32(reinterpret_cast<unsigned char *>(buf) + 4);
    const uint64_t total = 8ULL + klen + dlen;
    if (total > data_end_ - pos) {
        *error = path_ + " is corrupt: the record at " + std::to_string(pos) + " runs past the data";
        return false;
    }
    // The sizes are checked before the record takes any memory.
    if (klen > kMaxKeyBytes || dlen > max_value) {
        *error = path_ + " is corrupt: the record of " + std::to_string(dlen) + " bytes at " + std::to_string(pos) +
                 " (key of " + std::to_string(klen) + " bytes) is larger than a record may be (" +
                 std::to_string(max_value) + " bytes, key " + std::to_string(kMaxKeyBytes) + ")";
        return false;
    }
    if (total <= got) {
        key->assign(buf + 8, klen);
        value->assign(buf + 8 + klen, dlen);
    } else {
        std::string whole(static_cast<size_t>(klen) + dlen, '\0');
        if (!read(&whole[0], whole.size(), pos + 8, error))
            return false;
        key->assign(whole, 0, klen);
        value->assign(whole, klen, dlen);
    }
    *size = static_cast<uint32_t>(total);
    return true;
}

int CdbFile::next(unsigned *pos, std::string *key, std::string *value, std::string *error, uint32_t max_value) const
{
    if (*pos < kHeaderSize)
        *pos = kHeaderSize;
    if (*pos >= data_end_)
        return 0;
    std::string err;
    uint32_t size = 0;
    if (read_next_record(*pos, max_value, key, value, &size, &err)) {
        *pos += size;
        return 1;
    }
    if (error != nullptr)
        *error = err;
    return -1;
}

CdbCache::CdbCache(FileAccess &files, ChangeWatcher *watcher, size_t max_entries)
    : cache_(files, watcher, max_entries,
             [](FileAccess &f, const FsOwner *reader, const std::string &path, bool *missing, std::string *error) {
                 return CdbFile::open(f, reader, path, missing, error);
             })
{
}

CdbCache::Result CdbCache::get(const std::string &path, const FsOwner *reader)
{
    auto r = cache_.get(path, reader);
    if (r.value != nullptr && r.value->copy_deferred() && !copied_within_a_second(path)) {
        cache_.forget(path, reader);  // its second has passed: open it again, with a copy
        r = cache_.get(path, reader);
    }
    return Result{std::move(r.value), r.missing, std::move(r.error), r.watched, r.stamp};
}

}  // namespace vstore
