// Login parsing of both stores.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vmailmgr_format.h"
#include "vpopmail_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view in(reinterpret_cast<const char *>(data), size);
    auto p = vstore::vpopmail::parse_login(in);
    if (p.ok && (!vstore::vpopmail::is_username_valid(p.user) || !vstore::vpopmail::is_domain_valid(p.domain) ||
                 p.user.empty()))
        __builtin_trap();
    static const auto vd = vstore::vmailmgr::parse_virtualdomains(
        "example.org:exorg\n.example.org:exorg\nlists.example.org:exnet\nexample.info:vm-info\n");
    auto s = vstore::vmailmgr::split_login(vstore::vmailmgr::ascii_lower(in), "@:%");
    if (s.domain)
        (void)vstore::vmailmgr::find_virtual_prefix(vd, *s.domain);
    return 0;
}
