#include "vmailmgr_settings.h"

#include <pwd.h>

#include "settings_list.h"

namespace vstore {

std::optional<BaseUser> system_base_user(const std::string &name)
{
    struct passwd pw, *res = nullptr;
    std::vector<char> buf(16384);
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &res) != 0 || res == nullptr)
        return std::nullopt;
    BaseUser b;
    b.name = res->pw_name;
    b.home = res->pw_dir == nullptr ? "" : res->pw_dir;
    b.uid = res->pw_uid;
    b.gid = res->pw_gid;
    return b;
}

namespace {

using S = VmailmgrSettings;

bool apply_qmail_dir(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_absolute_path(key, value, true, &s->qmail_dir, error);
}

bool apply_config_dir(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_absolute_path(key, value, false, &s->config_dir, error);
}

bool apply_default_domain(const std::string &, const std::string &value, S *s, std::string *)
{
    s->default_domain = value;
    return true;
}

// Empty is unset, as an empty vmailmgr settings file is: <config_dir>/separators decides.
bool apply_separators(const std::string &, const std::string &value, S *s, std::string *)
{
    s->separators = value.empty() ? std::nullopt : std::optional<std::string>(value);
    return true;
}

bool apply_refuse_disabled_mailbox(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_yes_no(key, value, &s->refuse_disabled_mailbox, error);
}

bool apply_blocking(const std::string &key, const std::string &value, S *s, std::string *error)
{
    return parse_yes_no(key, value, &s->blocking, error);
}

const std::vector<SettingDef<S>> &table()
{
    static const std::vector<SettingDef<S>> t{VSTORE_VMAILMGR_SETTINGS(VSTORE_SETTING_ROW)};
    return t;
}

const std::vector<RemovedSetting> &removed()
{
    static const std::vector<RemovedSetting> r{
        {"system_users", "vmailmgr_system_users",
         "removed: a login that resolves to a base user itself is an unknown user; serve system "
         "accounts with Dovecot's own pam passdb (or shadow on 2.3)"}};
    return r;
}

}  // namespace

bool VmailmgrSettings::parse(const SettingWords &words, SettingNames names, VmailmgrSettings *out,
                             std::string *error)
{
    return apply_settings(table(), removed(), words, names, out, error);
}

bool VmailmgrSettings::parse(std::string_view args, VmailmgrSettings *out, std::string *error)
{
    SettingWords words;
    return split_args_words(args, &words, error) && parse(words, SettingNames::Args, out, error);
}

std::vector<SettingInfo> VmailmgrSettings::infos() { return setting_infos(table()); }

}  // namespace vstore
