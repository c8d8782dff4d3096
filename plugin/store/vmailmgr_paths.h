// What the vmailmgr driver reads of a base user's, and which base users it serves: the rules
// the store (vmailmgr_store.cc) and the store broker (broker_policy.cc, fs_broker.cc) share.
// Only the standard library: the broker's trusted code includes this, and nothing of the
// store's.
#pragma once

#include <sys/types.h>

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

// The ~/.vmailmgr/ settings the driver reads: password-file, and the limits a colon record
// takes from default-* (vmailmgr's set_defaults). vmailmgr has more names (configrc.in:
// autoresponse-file, user-dir, separators, ...): the driver reads none of them per base
// user, so the broker serves none of them.
inline constexpr std::string_view kBaseSettings[] = {
    kPasswordFileSetting, "default-hardquota", "default-softquota", "default-msgsize", "default-msgcount",
    "default-expiry"};

inline bool is_base_setting(std::string_view name)
{
    for (std::string_view s : kBaseSettings)
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

}  // namespace vmailmgr_paths
}  // namespace vstore
