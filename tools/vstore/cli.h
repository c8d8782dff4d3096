// vstore: the operator's view of the stores, on the drivers' own store code.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "driver_args.h"
#include "settings_table.h"
#include "vmailmgr_settings.h"
#include "vpopmail_settings.h"

namespace vstore_cli {

// Exit codes of `vstore lookup`, as a checkpassword-style verdict.
enum Exit { kOk = 0, kRefused = 1, kUnknown = 2, kUsage = 64, kTempFail = 75 };

struct Options {
    std::string store;               // vpopmail | vmailmgr
    vstore::SettingWords driver_args;  // key=value words, as in the 2.3 Dovecot config
    std::vector<std::string> words;  // other positional words
    std::string service = "imap", rip, local_name, format;
    bool password_stdin = false;
};

// The driver args parsed as the drivers parse them; on bad args prints why and returns false.
template <class Settings>
bool parse_driver_settings(const Options &o, Settings *s)
{
    std::string error;
    if (Settings::parse(o.driver_args, vstore::SettingNames::Args, s, &error))
        return true;
    fprintf(stderr, "vstore: driver args: %s\n", error.c_str());
    return false;
}

int cmd_lookup(const Options &o);
int cmd_check(const Options &o);
int cmd_export(const Options &o);
int cmd_settings(const Options &o);
int cmd_config_check(const Options &o);

}  // namespace vstore_cli
