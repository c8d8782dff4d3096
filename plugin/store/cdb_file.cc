#include "cdb_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vstore {

namespace {

constexpr unsigned kHeaderSize = 2048;

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

CdbFile::CdbFile(std::string path, UniqueFd fd, const FileStamp &stamp)
    : path_(std::move(path)), fd_(std::move(fd)), stamp_(stamp)
{
}

CdbFile::~CdbFile()
{
    if (initialised_)
        cdb_free(&cdb_);
}

std::shared_ptr<CdbFile> CdbFile::open(const std::string &path, bool *missing, std::string *error)
{
    *missing = false;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        int err = errno;
        *missing = err == ENOENT;
        *error = errno_message("open", path, err);
        return nullptr;
    }
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) {
        *error = errno_message("fstat", path, errno);
        return nullptr;
    }
    if (!S_ISREG(st.st_mode)) {
        *error = path + " is not a regular file";
        return nullptr;
    }
    if (st.st_size < static_cast<off_t>(kHeaderSize)) {
        *error = path + " is truncated: " + std::to_string(st.st_size) +
                 " bytes, a cdb has at least a 2048-byte header";
        return nullptr;
    }
    if (st.st_size > 0xffffffffLL) {
        *error = path + " is larger than a cdb can be (4 GiB)";
        return nullptr;
    }
    std::shared_ptr<CdbFile> f(new CdbFile(path, std::move(fd), FileStamp::of(st)));
    if (cdb_init(&f->cdb_, f->fd_.get()) < 0) {
        *error = errno_message("cdb_init", path, errno);
        return nullptr;
    }
    f->initialised_ = true;
    return f;
}

CdbFile::Hit CdbFile::find(std::string_view key) const
{
    Hit hit;
    int r = cdb_find(&cdb_, key.data(), static_cast<unsigned>(key.size()));
    if (r < 0) {
        hit.status = Status::Corrupt;
        return hit;
    }
    if (r == 0)
        return hit;
    const void *data = cdb_get(&cdb_, cdb_datalen(&cdb_), cdb_datapos(&cdb_));
    if (data == nullptr) {
        hit.status = Status::Corrupt;
        return hit;
    }
    hit.status = Status::Found;
    hit.value = std::string_view(static_cast<const char *>(data), cdb_datalen(&cdb_));
    return hit;
}

CdbFile::Hit CdbFile::find_signed_char_hash(std::string_view key) const
{
    // The probe sequence of cdb, with every read bounds-checked by cdb_get.
    Hit hit;
    const uint32_t h = cdb_hash_signed(key);
    const auto *head = static_cast<const unsigned char *>(cdb_get(&cdb_, 8, (h & 255) * 8));
    if (head == nullptr) {
        hit.status = Status::Corrupt;
        return hit;
    }
    const uint32_t table = le32(head), nslots = le32(head + 4);
    if (nslots == 0)
        return hit;
    if (table < kHeaderSize || nslots > (cdb_.cdb_fsize - table) / 8) {
        hit.status = Status::Corrupt;
        return hit;
    }
    uint32_t slot = (h >> 8) % nslots;
    for (uint32_t n = 0; n < nslots; n++) {
        const auto *s = static_cast<const unsigned char *>(cdb_get(&cdb_, 8, table + slot * 8));
        if (s == nullptr) {
            hit.status = Status::Corrupt;
            return hit;
        }
        const uint32_t rhash = le32(s), rpos = le32(s + 4);
        if (rpos == 0)
            return hit;
        if (rhash == h) {
            const auto *rec = static_cast<const unsigned char *>(cdb_get(&cdb_, 8, rpos));
            if (rec == nullptr) {
                hit.status = Status::Corrupt;
                return hit;
            }
            const uint32_t klen = le32(rec), dlen = le32(rec + 4);
            const void *k = cdb_get(&cdb_, klen, rpos + 8);
            const void *d = k == nullptr ? nullptr : cdb_get(&cdb_, dlen, rpos + 8 + klen);
            if (k == nullptr || d == nullptr) {
                hit.status = Status::Corrupt;
                return hit;
            }
            if (klen == key.size() && std::memcmp(k, key.data(), klen) == 0) {
                hit.status = Status::Found;
                hit.value = std::string_view(static_cast<const char *>(d), dlen);
                return hit;
            }
        }
        if (++slot == nslots)
            slot = 0;
    }
    return hit;
}

int CdbFile::next(unsigned *pos, std::string_view *key, std::string_view *value) const
{
    if (*pos < kHeaderSize)
        cdb_seqinit(pos, &cdb_);
    int r = cdb_seqnext(pos, &cdb_);
    if (r <= 0)
        return r < 0 ? -1 : 0;
    const void *k = cdb_get(&cdb_, cdb_keylen(&cdb_), cdb_keypos(&cdb_));
    const void *d = cdb_get(&cdb_, cdb_datalen(&cdb_), cdb_datapos(&cdb_));
    if (k == nullptr || d == nullptr)
        return -1;
    *key = std::string_view(static_cast<const char *>(k), cdb_keylen(&cdb_));
    *value = std::string_view(static_cast<const char *>(d), cdb_datalen(&cdb_));
    return 1;
}

CdbCache::CdbCache(ChangeWatcher *watcher, size_t max_entries)
    : cache_(watcher, max_entries, [](const std::string &path, bool *missing, std::string *error) {
          return CdbFile::open(path, missing, error);
      })
{
}

CdbCache::Result CdbCache::get(const std::string &path)
{
    auto r = cache_.get(path);
    return Result{std::move(r.value), r.missing, std::move(r.error), r.watched};
}

}  // namespace vstore
