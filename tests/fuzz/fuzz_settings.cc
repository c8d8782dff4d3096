// Driver args, vmailmgr control files (virtualdomains, locals).
#include <cstddef>
#include <cstdint>
#include <string>

#include "vmailmgr_store.h"
#include "vpopmail_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view in(reinterpret_cast<const char *>(data), size);
    std::string error;
    vstore::VpopmailSettings vp;
    if (!vstore::VpopmailSettings::parse(in, &vp, &error) && error.empty())
        __builtin_trap();
    error.clear();
    vstore::VmailmgrSettings vm;
    if (!vstore::VmailmgrSettings::parse(in, &vm, &error) && error.empty())
        __builtin_trap();
    auto vd = vstore::vmailmgr::parse_virtualdomains(in);
    (void)vstore::vmailmgr::find_virtual_prefix(vd, "mail.example.org");
    (void)vstore::vmailmgr::locals_contains(in, "localhost");
    return 0;
}
