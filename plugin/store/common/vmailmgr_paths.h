// What the vmailmgr driver reads of a base user's, and which base users it serves: the rules
// the store (vmailmgr_store.cc) and the store broker (broker_policy.cc, fs_broker.cc) share.
// Only the standard library: the broker's trusted code includes this, and nothing of the
// store's.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace vstore {
namespace vmailmgr_paths {

// vmailmgr's per-user configuration directory, in the base user's home (lib/config/
// configrc.cc: a configuration whose directory is ~/.vmailmgr, over the global one).
inline constexpr std::string_view kSettingsDir = ".vmailmgr";

// password-file's default (lib/config/configrc.in: password_file "passwd"); the store the
// driver opens is <home>/<password-file>.cdb.
inline constexpr std::string_view kPasswordFileSetting = "password-file";
inline constexpr std::string_view kDefaultPasswordFile = "passwd";
inline constexpr std::string_view kStoreSuffix = ".cdb";

// The limits a colon record takes from the base user's settings (vmailmgr's set_defaults), in
// the order of vmailmgr::Limits: hardquota, softquota, msgsize, msgcount, expiry.
inline constexpr std::string_view kLimitSettings[] = {"default-hardquota", "default-softquota", "default-msgsize",
                                                      "default-msgcount", "default-expiry"};

// The ~/.vmailmgr/ settings the driver reads: password-file and the limits. vmailmgr has more
// names (configrc.in: autoresponse-file, user-dir, separators, ...): the driver reads none of
// them per base user, so the broker serves none of them.
inline bool is_base_setting(std::string_view name)
{
    if (name == kPasswordFileSetting)
        return true;
    for (std::string_view s : kLimitSettings)
        if (name == s)
            return true;
    return false;
}

// vmailmgr's config_read(): the first line (up to '\n'), white space stripped at both ends
// (mystring::strip: isspace()); empty means unset at this level.
inline bool is_config_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

inline std::string_view setting_text(std::string_view file_text)
{
    std::string_view line = file_text.substr(0, file_text.find('\n'));
    while (!line.empty() && is_config_space(line.front()))
        line.remove_prefix(1);
    while (!line.empty() && is_config_space(line.back()))
        line.remove_suffix(1);
    return line;
}

// A password-file value the driver opens: a file name in the home. vmailmgr joins it to the
// home; a '/' could reach any file the reader can read, so none is accepted (nor "." or
// "..", nor a NUL, which no file name holds).
inline bool password_file_name_allowed(std::string_view name)
{
    return !name.empty() && name.size() <= 255 - kStoreSuffix.size() && name != "." && name != ".." &&
           name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

// Whether a system account is a base user the driver serves: not below first_valid_uid,
// neither uid nor gid 0, a home of its own (an absolute path other than "/").
inline bool base_user_served(uid_t uid, gid_t gid, std::string_view home, uid_t first_valid_uid)
{
    return uid != 0 && uid >= first_valid_uid && gid != 0 && home.size() > 1 && home.front() == '/';
}

// Only names a Unix account can have go to getpwnam(): NSS modules (nss-systemd) build file
// paths from the name they are given, and no base user has any other kind of name.
inline bool is_portable_user_name(std::string_view name)
{
    if (name.empty() || name.size() > 32 || name[0] == '-')
        return false;
    for (size_t i = 0; i < name.size(); i++) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
                        (c >= 'A' && c <= 'Z') || (c == '$' && i == name.size() - 1);
        if (!ok)
            return false;
    }
    return true;
}

// mystring::lower: ASCII letters only.
inline std::string ascii_lowered(std::string_view s)
{
    std::string out(s);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// The base user of a name, as checkvpw finds it (lib/misc/lookup_baseuser.cc): the whole
// name, then each shorter part that ends just before a '-', right to left, each lowercased
// (base.lower()); the first that is an account is the base user, and what follows
// its '-' is the virtual name. The one rule for both questions the driver asks:
//   - a login: the name is "prefix-name" (or the bare name for a control/locals domain);
//   - whom a control/virtualdomains line leads to (the store answers for that base user's
//     virtual users, the broker serves its home): the name is the prefix alone, so
//     "exorg-org" leads to exorg-org if that account exists, else to exorg. An account only a
//     longer name reaches (exorg-org-joe, for joe-x@example.org) is not one the line leads to.
// is_account(lowered candidate) looks the candidate up (getpwnam), keeping what it found;
// names no account can have are not asked. Returns the base user's length in `name`, or 0
// when no candidate is an account.
template <class IsAccount>
size_t find_base_user(std::string_view name, IsAccount &&is_account)
{
    for (size_t end = name.size(); end > 0;) {
        const std::string candidate = ascii_lowered(name.substr(0, end));
        if (is_portable_user_name(candidate) && is_account(candidate))
            return end;
        const size_t dash = name.rfind('-', end - 1);
        end = dash == std::string_view::npos ? 0 : dash;
    }
    return 0;
}

}  // namespace vmailmgr_paths
}  // namespace vstore
