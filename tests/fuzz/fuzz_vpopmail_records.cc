// vpopmail vpasswd values and lines, and qmail-newu assign values.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vpopmail_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace vstore::vpopmail;
    std::string_view in(reinterpret_cast<const char *>(data), size);
    std::string error;
    auto pw = parse_vpasswd_value(in, &error);
    if (pw) {
        (void)crypt_part(pw->passwd);
        (void)parse_quota(pw->quota);
        (void)flags_to_string(pw->flags);
    }
    error.clear();
    if (!parse_assign_value(in, &error) && error.empty())
        __builtin_trap();
    // as a text vpasswd: look up a user named by the input's first line
    size_t nl = in.find('\n');
    (void)find_vpasswd_line(in, in.substr(0, nl == std::string_view::npos ? 0 : nl));
    (void)find_vpasswd_line(in, "alice");
    return 0;
}
