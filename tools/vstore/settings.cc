// vstore settings: the driver's settings table (settings_list.h), one tab-separated line per
// setting: the 2.3 arg, the 2.4 setting ("-" where 2.4 has its own), the default, the meaning.
#include <cstdio>

#include "cli.h"
#include "vmailmgr_settings.h"
#include "vpopmail_settings.h"

namespace vstore_cli {

int cmd_settings(const Options &o)
{
    if (!o.words.empty() || !o.driver_args.empty()) {
        fprintf(stderr, "vstore settings: no arguments expected after the store\n");
        return kUsage;
    }
    const auto infos = o.store == "vpopmail" ? vstore::VpopmailSettings::infos() : vstore::VmailmgrSettings::infos();
    for (const vstore::SettingInfo &i : infos)
        printf("%s\t%s\t%s\t%s\n", i.arg, i.name24 == nullptr ? "-" : i.name24, i.default_value, i.meaning);
    return kOk;
}

}  // namespace vstore_cli
