// The vmailmgr driver's settings: what settings_list.h declares, parsed into one struct.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "driver_args.h"
#include "settings_table.h"
#include "store_access.h"

namespace vstore {

struct BaseUser {
    std::string name, home;
    uid_t uid = 0;
    gid_t gid = 0;
};

// getpwnam_r; tests substitute their own. nullopt = no such user.
using BaseUserLookup = std::function<std::optional<BaseUser>(const std::string &)>;
std::optional<BaseUser> system_base_user(const std::string &name);

struct VmailmgrSettings {
    std::string qmail_dir;  // empty: <config_dir>/qmail-root, else /var/qmail
    std::string config_dir;
    std::string default_domain;             // for logins without a separator; else the local name
    std::optional<std::string> separators;  // overrides <config_dir>/separators
    bool refuse_disabled_mailbox = false;
    bool blocking = false;
    // Threads verifying costly hashes when the passdb runs in the auth process (blocking=no).
    unsigned verify_threads = 0;
    StoreAccessSettings access;
    // Base users below this uid are not looked at (root, daemon, ...): Dovecot's
    // first_valid_uid where the driver runs in Dovecot; not a setting of the driver.
    uid_t first_valid_uid = 500;
    BaseUserLookup lookup_base_user = system_base_user;

    // The 2.3 args line (and vstore's words); false with *error naming the bad key or value.
    static bool parse(std::string_view args, VmailmgrSettings *out, std::string *error);
    static bool parse(const SettingWords &words, SettingNames names, VmailmgrSettings *out, std::string *error);
    static std::vector<SettingInfo> infos();
};

}  // namespace vstore
