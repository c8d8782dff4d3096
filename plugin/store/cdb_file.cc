#include "cdb_file.h"

#include <atomic>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace vstore {

namespace {

constexpr unsigned kHeaderSize = 2048;
constexpr size_t kSlotsPerRead = 8;      // hash slots read with one pread()
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
// copies this process holds, are read with pread() at each lookup.
constexpr uint32_t kCopyMax = 8u << 20;
constexpr size_t kCopyBudget = 256u << 20;
std::atomic<size_t> copied_bytes{0};

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

std::shared_ptr<CdbFile> CdbFile::open(const std::string &path, bool *missing, std::string *error)
{
    struct stat st;
    UniqueFd fd = open_regular_file(path, &st, missing, error);
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
    if (f->size_ <= kCopyMax && copied_bytes + f->size_ <= kCopyBudget) {
        std::string copy(f->size_, '\0');
        if (!pread_full(f->fd_.get(), &copy[0], copy.size(), 0, path, error))
            return nullptr;
        f->copy_ = std::move(copy);
        copied_bytes += f->size_;
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

bool CdbFile::read_record(uint32_t pos, std::string_view key, bool *matches, std::string *value,
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
    std::string whole;
    const unsigned char *k = buf + 8;
    if (8 + static_cast<size_t>(klen) + dlen > want) {
        whole.resize(static_cast<size_t>(klen) + dlen);
        if (!read(&whole[0], whole.size(), pos + 8, error))
            return false;
        k = reinterpret_cast<const unsigned char *>(whole.data());
    }
    if (klen != 0 && std::memcmp(k, key.data(), klen) != 0)
        return true;
    *matches = true;
    value->assign(reinterpret_cast<const char *>(k) + klen, dlen);
    return true;
}

CdbFile::Hit CdbFile::find_hashed(std::string_view key, uint32_t h) const
{
    Hit hit;
    const uint32_t table = le32(header_ + (h & 255) * 8), nslots = le32(header_ + (h & 255) * 8 + 4);
    if (nslots == 0)
        return hit;
    uint32_t slot = (h >> 8) % nslots;
    unsigned char buf[kSlotsPerRead * 8];
    for (uint32_t seen = 0; seen < nslots;) {
        const size_t n = std::min<size_t>({kSlotsPerRead, nslots - slot, nslots - seen});
        // (open() checked that every table lies inside the file, which is below 4 GiB)
        if (!read(buf, n * 8, static_cast<uint32_t>(table + slot * 8ULL), &hit.error)) {
            hit.status = Status::Corrupt;
            return hit;
        }
        for (size_t i = 0; i < n; i++) {
            const uint32_t rhash = le32(buf + i * 8), rpos = le32(buf + i * 8 + 4);
            if (rpos == 0)
                return hit;
            if (rhash != h)
                continue;
            bool matches = false;
            if (!read_record(rpos, key, &matches, &hit.value, &hit.error)) {
                hit.status = Status::Corrupt;
                return hit;
            }
            if (matches) {
                hit.status = Status::Found;
                return hit;
            }
        }
        seen += static_cast<uint32_t>(n);
        slot += static_cast<uint32_t>(n);
        if (slot == nslots)
            slot = 0;
    }
    return hit;
}

CdbFile::Hit CdbFile::find(std::string_view key) const { return find_hashed(key, cdb_hash_unsigned(key)); }

CdbFile::Hit CdbFile::find_signed_char_hash(std::string_view key) const
{
    return find_hashed(key, cdb_hash_signed(key));
}

int CdbFile::next(unsigned *pos, std::string *key, std::string *value, std::string *error) const
{
    std::string err;
    if (*pos < kHeaderSize)
        *pos = kHeaderSize;
    if (*pos >= data_end_)
        return 0;
    if (data_end_ - *pos < 8) {
        err = path_ + " is corrupt: a partial record at " + std::to_string(*pos);
    } else {
        // One read for the header and, usually, the whole record.
        char buf[4096];
        const size_t got = std::min<size_t>(sizeof(buf), data_end_ - *pos);
        if (read(buf, got, *pos, &err)) {
            const uint32_t klen = le32(reinterpret_cast<unsigned char *>(buf));
            const uint32_t dlen = le32(reinterpret_cast<unsigned char *>(buf) + 4);
            const uint64_t total = 8ULL + klen + dlen;
            if (total > data_end_ - *pos) {
                err = path_ + " is corrupt: the record at " + std::to_string(*pos) + " runs past the data";
            } else if (total <= got) {
                key->assign(buf + 8, klen);
                value->assign(buf + 8 + klen, dlen);
                *pos += static_cast<unsigned>(total);
                return 1;
            } else {
                std::string whole(static_cast<size_t>(klen) + dlen, '\0');
                if (read(&whole[0], whole.size(), *pos + 8, &err)) {
                    key->assign(whole, 0, klen);
                    value->assign(whole, klen, dlen);
                    *pos += static_cast<unsigned>(total);
                    return 1;
                }
            }
        }
    }
    if (error != nullptr)
        *error = err;
    return -1;
}

CdbCache::CdbCache(ChangeWatcher *watcher, size_t max_entries)
    : cache_(watcher, max_entries, [](const std::string &path, bool *missing, std::string *error) {
          return CdbFile::open(path, missing, error);
      })
{
}

CdbCache::Result CdbCache::get(const std::string &path, const FsOwner *reader)
{
    auto r = cache_.get(path, reader);
    return Result{std::move(r.value), r.missing, std::move(r.error), r.watched, r.stamp};
}

}  // namespace vstore
