// How both stores reach their files: whose rights, which homes a record may name, whether a
// directory's change notification is trusted, and what a stored hash may cost. Settings
// shared by the vpopmail and vmailmgr drivers, parsed once here.
#pragma once

#include <string>
#include <string_view>
#include <optional>
#include <vector>

#include "change_watcher.h"
#include "driver_args.h"
#include "hash_cost.h"

namespace vstore {

struct StoreAccessSettings {
    SharedFs shared_fs = SharedFs::Auto;
    // Directories outside a domain's (vpopmail) or base user's (vmailmgr) home that user
    // homes may still be in: sites that moved mailboxes to another disk.
    std::vector<std::string> home_roots;
    HashCostLimits hash_limits;
};

// The value parsers of these settings (settings_list.h, VSTORE_ACCESS_SETTINGS); false with
// *error naming `key`.
bool parse_shared_fs(const std::string &key, const std::string &value, SharedFs *out, std::string *error);
bool parse_home_roots(const std::string &key, const std::string &value, std::vector<std::string> *out,
                      std::string *error);

// The table's apply functions, for any driver settings struct with an `access` member.
template <class S>
bool apply_verify_threads(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_thread_count(key, value, &s->verify_threads, error);
}
template <class S>
bool apply_shared_fs(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_shared_fs(key, value, &s->access.shared_fs, error);
}
template <class S>
bool apply_home_roots(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_home_roots(key, value, &s->access.home_roots, error);
}
template <class S>
bool apply_max_crypt_rounds(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_count(key, value, 999999999, &s->access.hash_limits.max_crypt_rounds, error);
}
template <class S>
bool apply_max_bcrypt_cost(const std::string &key, const std::string &value, S *s, std::string *error)
{
    uint64_t v = 0;
    if (!parse_count(key, value, 31, &v, error))
        return false;
    s->access.hash_limits.max_bcrypt_cost = static_cast<unsigned>(v);
    return true;
}
template <class S>
bool apply_max_yescrypt_mib(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_count(key, value, 1 << 20, &s->access.hash_limits.max_yescrypt_mib, error);
}

// Whether `path` is `root` or below it, compared by path components (so /a/bc is not
// below /a/b); both must be absolute, and a path with "." or ".." components is never below
// anything.
bool path_is_below(std::string_view path, std::string_view root);

// Why `home` may not be a user's home: it must be absolute, free of "..", "." and control
// characters, and below `owner_root` or one of `extra_roots`. nullopt when it is fine.
std::optional<std::string> home_refusal(std::string_view home, std::string_view owner_root,
                                        const std::vector<std::string> &extra_roots);

}  // namespace vstore
