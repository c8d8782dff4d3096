// How both stores reach their files: whose rights, which homes a record may name, whether a
// directory's change notification is trusted, and what a stored hash may cost. Settings
// shared by the vpopmail and vmailmgr drivers, parsed once here.
#pragma once

#include <set>
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

    // The arg keys parsed here.
    static const std::set<std::string> &keys();
    // Reads this struct's keys from args; false with *error naming the key.
    static bool parse(const DriverArgs &args, StoreAccessSettings *out, std::string *error);
};

// Whether `path` is `root` or below it, compared by path components (so /a/bc is not
// below /a/b); both must be absolute, and a path with "." or ".." components is never below
// anything.
bool path_is_below(std::string_view path, std::string_view root);

// Why `home` may not be a user's home: it must be absolute, free of "..", "." and control
// characters, and below `owner_root` or one of `extra_roots`. nullopt when it is fine.
std::optional<std::string> home_refusal(std::string_view home, std::string_view owner_root,
                                        const std::vector<std::string> &extra_roots);

}  // namespace vstore
