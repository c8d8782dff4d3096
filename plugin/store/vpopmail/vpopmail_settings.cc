#include "vpopmail_settings.h"

#include <arpa/inet.h>
#include <pwd.h>

#include <cstring>

#include "settings_list.h"
#include "vpopmail_format.h"

namespace vstore {

bool IpAddress::parse(std::string_view text, IpAddress *out)
{
    std::string s(text);
    IpAddress a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes) == 1) {
        a.family = AF_INET;
    } else if (inet_pton(AF_INET6, s.c_str(), a.bytes) == 1) {
        a.family = AF_INET6;
        static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(a.bytes, v4mapped, 12) == 0) {
            std::memmove(a.bytes, a.bytes + 12, 4);
            std::memset(a.bytes + 4, 0, 12);
            a.family = AF_INET;
        }
    } else {
        return false;
    }
    *out = a;
    return true;
}

bool IpAddress::operator==(const IpAddress &o) const
{
    return family == o.family && std::memcmp(bytes, o.bytes, sizeof(bytes)) == 0;
}

namespace {

using S = VpopmailSettings;

std::string default_vpopmail_dir()
{
    struct passwd pw, *res = nullptr;
    char buf[4096];
    if (getpwnam_r("vpopmail", &pw, buf, sizeof(buf), &res) == 0 && res != nullptr && res->pw_dir != nullptr &&
        res->pw_dir[0] == '/')
        return res->pw_dir;
    return "/home/vpopmail";
}

bool apply_vpopmail_dir(const std::string &key, const std::string &value, S *s, std::string *error)
{
    if (!parse_absolute_path(key, value, true, &s->vpopmail_dir, error))
        return false;
    if (s->vpopmail_dir.empty())
        s->vpopmail_dir = default_vpopmail_dir();
    return true;
}

bool apply_qmail_dir(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_absolute_path(key, value, false, &s->qmail_dir, error);
}

bool apply_default_domain(const std::string &key, const std::string &value, S *s, std::string *error)
{
    s->default_domain = vpopmail::ascii_lower(value);
    if (vpopmail::is_domain_valid(s->default_domain))
        return true;
    *error = key + " '" + s->default_domain + "' is not a valid domain";
    return false;
}

bool apply_webmail_ips(const std::string &key, const std::string &value, S *s, std::string *error)
{
    s->webmail_ips.clear();
    size_t pos = 0;
    while (pos < value.size()) {
        size_t comma = value.find(',', pos);
        std::string one = value.substr(pos, comma == std::string::npos ? comma : comma - pos);
        pos = comma == std::string::npos ? value.size() : comma + 1;
        if (one.empty())
            continue;
        IpAddress ip;
        if (!IpAddress::parse(one, &ip)) {
            *error = key + ": '" + one + "' is not an IP address";
            return false;
        }
        s->webmail_ips.push_back(ip);
    }
    return true;
}

bool apply_clear_password(const std::string &key, const std::string &value, S *s, std::string *error)
{
    if (value != "ignore" && value != "prefer") {
        *error = key + " must be 'ignore' or 'prefer', not '" + value + "'";
        return false;
    }
    s->clear_prefer = value == "prefer";
    return true;
}

bool apply_lastauth(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_yes_no(key, value, &s->lastauth, error);
}

bool apply_lastauth_interval(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_seconds(key, value, &s->lastauth_interval, error);
}

// "auto", the default of earlier versions, is the default: the auth process.
bool apply_blocking(const std::string &key, const std::string &value, S *s, std::string *error)
{
    if (value == "auto") {
        s->blocking = false;
        return true;
    }
    return parse_yes_no(key, value, &s->blocking, error);
}

bool apply_backend(const std::string &key, const std::string &value, S *s, std::string *error)
{
    if (value != "cdb" && value != "mysql") {
        *error = key + " must be 'cdb' or 'mysql', not '" + value + "'";
        return false;
    }
    s->backend = value == "mysql" ? S::Backend::Mysql : S::Backend::Cdb;
    return true;
}

bool apply_mysql_config(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_absolute_path(key, value, true, &s->mysql_config, error);
}

bool apply_many_domains(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_yes_no(key, value, &s->many_domains, error);
}

bool apply_mysql_limits(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_yes_no(key, value, &s->mysql_limits, error);
}

const std::vector<SettingDef<S>> &table()
{
    static const std::vector<SettingDef<S>> t{VSTORE_VPOPMAIL_SETTINGS(VSTORE_SETTING_ROW)};
    return t;
}

}  // namespace

bool VpopmailSettings::parse(const SettingWords &words, SettingNames names, VpopmailSettings *out,
                             std::string *error)
{
    if (!apply_settings(table(), {}, words, names, out, error))
        return false;
    // the settings that depend on others
    if (out->mysql_config.empty())
        out->mysql_config = out->vpopmail_dir + "/etc/vpopmail.mysql";
    return true;
}

bool VpopmailSettings::parse(std::string_view args, VpopmailSettings *out, std::string *error)
{
    SettingWords words;
    return split_args_words(args, &words, error) && parse(words, SettingNames::Args, out, error);
}

std::vector<SettingInfo> VpopmailSettings::infos() { return setting_infos(table()); }

}  // namespace vstore
