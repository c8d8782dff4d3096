// Dovecot 2.4: the check of the drivers' named settings, for the settings module's check_func
// (dovecot24_settings.c). The values are parsed by the store's own parsers, the same that
// read them when the auth process starts: doveconf refuses what the drivers would refuse,
// with the same message. No Dovecot header here; no exception leaves.
#include <cstring>
#include <exception>
#include <string>

#include "dovecot24_settings.h"
#include "vmailmgr_settings.h"
#include "vpopmail_settings.h"

extern "C" int vstore_settings_check(const char *driver, const char *const *pairs, char *error, size_t error_size)
{
    std::string why;
    try {
        vstore::SettingWords words;
        for (; pairs[0] != nullptr && pairs[1] != nullptr; pairs += 2)
            words.emplace_back(pairs[0], pairs[1]);
        bool ok;
        if (std::strcmp(driver, "vpopmail") == 0) {
            vstore::VpopmailSettings set;
            ok = vstore::VpopmailSettings::parse(words, vstore::SettingNames::Named24, &set, &why);
        } else if (std::strcmp(driver, "vmailmgr") == 0) {
            vstore::VmailmgrSettings set;
            ok = vstore::VmailmgrSettings::parse(words, vstore::SettingNames::Named24, &set, &why);
        } else {
            ok = false;
            why = std::string("no settings for driver ") + driver;
        }
        if (ok)
            return 0;
    } catch (const std::exception &e) {
        why = e.what();
    } catch (...) {
        why = "unknown error";
    }
    if (error_size > 0) {
        std::strncpy(error, why.c_str(), error_size - 1);
        error[error_size - 1] = '\0';
    }
    return -1;
}
