// vpopmail quota fields and limits files, vmailmgr number fields.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vmailmgr_format.h"
#include "vpopmail_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view in(reinterpret_cast<const char *>(data), size);
    auto q = vstore::vpopmail::parse_quota(in);
    if (!q.valid && (q.bytes || q.messages))  // an invalid field gives no limit
        __builtin_trap();
    (void)vstore::vpopmail::parse_limits_mask(in);
    uint32_t n;
    (void)vstore::vmailmgr::parse_number(in, &n);
    return 0;
}
