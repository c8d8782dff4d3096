// vmailmgr passwd.cdb values: decode, and resolve the directory of what decodes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vmailmgr_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace vstore::vmailmgr;
    std::string_view in(reinterpret_cast<const char *>(data), size);
    std::string error, path;
    auto r = decode_record(in, Limits(), &error);
    if (r) {
        resolve_directory("/home/base", r->directory, &path, &error);
        (void)classify_password(r->password);
    } else if (error.empty()) {
        __builtin_trap();  // every rejection must say why
    }
    return 0;
}
