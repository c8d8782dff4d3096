// Random bytes as a store file: open, look up, scan (both hash variants), as the drivers do.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "cdb_file.h"
#include "vmailmgr_format.h"
#include "vpopmail_format.h"

namespace {

// An in-memory file, reopened by path the way the drivers open a store.
int scratch_fd()
{
    static int fd = memfd_create("vstore-fuzz-cdb", MFD_CLOEXEC);
    return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const std::string path = "/proc/self/fd/" + std::to_string(scratch_fd());
    const int fd = scratch_fd();
    if (fd < 0 || ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))
        return 0;
    bool missing;
    std::string error;
    auto cdb = vstore::CdbFile::open(path, &missing, &error);
    if (cdb == nullptr) {
        if (error.empty())
            __builtin_trap();
        return 0;
    }
    for (const char *key : {"alice", "postmaster", "!example.com-", "j\xc3\xb6hn", ""}) {
        auto hit = cdb->find(key);
        if (hit.status == vstore::CdbFile::Status::Found) {
            std::string err;
            (void)vstore::vpopmail::parse_vpasswd_value(hit.value, &err);
            (void)vstore::vmailmgr::decode_record(hit.value, vstore::vmailmgr::Limits(), &err);
        }
        (void)cdb->find_signed_char_hash(key);
        (void)cdb->find(key, 16);  // a caller's smaller cap on the value
    }
    unsigned pos = 0;
    std::string k, v;
    for (int n = 0; n < 4096 && cdb->next(&pos, &k, &v) > 0; n++)
        (void)cdb->find(k);
    return 0;
}
