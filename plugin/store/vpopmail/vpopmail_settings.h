// The vpopmail driver's settings: what settings_list.h declares, parsed into one struct.
#pragma once

#include <netinet/in.h>

#include <string>
#include <string_view>
#include <vector>

#include "driver_args.h"
#include "settings_table.h"
#include "store_access.h"

namespace vstore {

// A client address in binary form, for comparisons that ignore spelling ("::ffff:1.2.3.4").
struct IpAddress {
    int family = 0;
    unsigned char bytes[16] = {};
    static bool parse(std::string_view text, IpAddress *out);
    bool operator==(const IpAddress &o) const;
};

struct VpopmailSettings {
    std::string vpopmail_dir;  // ~vpopmail
    std::string qmail_dir;
    std::string default_domain;  // empty: first line of <vpopmail_dir>/etc/defaultdomain
    std::vector<IpAddress> webmail_ips;
    bool clear_prefer = false;  // clear_password=prefer
    bool blocking = false;
    enum class Backend { Cdb, Mysql } backend = Backend::Cdb;
    std::string mysql_config;  // the connection file (backend=mysql)
    bool many_domains = true;
    bool mysql_limits = false;
    bool lastauth = true;             // write <user dir>/lastauth after a login, as vchkpw
    unsigned lastauth_interval = 60;  // seconds: skip the write if lastauth is younger
    // Threads verifying costly hashes when the passdb runs in the auth process (blocking=no).
    unsigned verify_threads = 0;
    StoreAccessSettings access;

    // The 2.3 args line (and vstore's words); false with *error naming the bad key or value.
    static bool parse(std::string_view args, VpopmailSettings *out, std::string *error);
    static bool parse(const SettingWords &words, SettingNames names, VpopmailSettings *out, std::string *error);
    static std::vector<SettingInfo> infos();
};

}  // namespace vstore
