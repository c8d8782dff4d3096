// A driver's settings table, made from settings_list.h, and the one parser that reads
// settings through it: the 2.3 `args` words, 2.4's named settings (handed over as pairs by
// compat), and vstore's arguments all end here.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "driver_args.h"

namespace vstore {

// Which names the given words use.
enum class SettingNames {
    Args,     // 2.3 `args` words and vstore's arguments: qmail_dir=...
    Named24,  // 2.4 settings: vpopmail_qmail_dir = ...
};

// A row of settings_list.h, for listings and documentation.
struct SettingInfo {
    const char *arg;
    const char *name24;  // nullptr: not a 2.4 setting (the meaning names 2.4's own)
    const char *default_value;
    const char *meaning;
};

template <class Settings>
struct SettingDef {
    SettingInfo info;
    // Parses value (the default when the setting is not given) into *out; false with
    // *error, which names `key` as the operator spelled it.
    bool (*apply)(const std::string &key, const std::string &value, Settings *out, std::string *error);
};

// Settings that existed once: naming one is an error that says what replaced it.
struct RemovedSetting {
    const char *arg, *name24;
    const char *why;
};

// Every row's default, then the given words over them. An unknown name, a name given twice or
// a bad value is an error naming it.
template <class Settings>
bool apply_settings(const std::vector<SettingDef<Settings>> &table, const std::vector<RemovedSetting> &removed,
                    const SettingWords &given, SettingNames names, Settings *out, std::string *error)
{
    auto name_of = [names](const SettingInfo &i) { return names == SettingNames::Args ? i.arg : i.name24; };
    std::set<std::string> seen;
    for (const auto &[key, value] : given) {
        bool known = false;
        for (const auto &def : table)
            known = known || (name_of(def.info) != nullptr && key == name_of(def.info));
        if (!known) {
            *error = (names == SettingNames::Args ? "unknown argument '" : "unknown setting '") + key + "'";
            for (const RemovedSetting &r : removed)
                if (key == (names == SettingNames::Args ? r.arg : r.name24))
                    *error += ": " + std::string(r.why);
            return false;
        }
        if (!seen.insert(key).second) {
            *error = "'" + key + "' given twice";
            return false;
        }
    }
    Settings s;
    for (const auto &def : table) {
        const char *name = name_of(def.info);
        std::string value = def.info.default_value;
        std::string key = name != nullptr ? name : def.info.arg;
        for (const auto &[k, v] : given)
            if (name != nullptr && k == name)
                value = v;
        if (!def.apply(key, value, &s, error))
            return false;
    }
    *out = std::move(s);
    return true;
}

template <class Settings>
std::vector<SettingInfo> setting_infos(const std::vector<SettingDef<Settings>> &table)
{
    std::vector<SettingInfo> out;
    for (const auto &def : table)
        out.push_back(def.info);
    return out;
}

}  // namespace vstore

// One table row from a settings_list.h line.
#define VSTORE_NAME24_BOTH(name) #name
#define VSTORE_NAME24_ARGS23(name) nullptr
#define VSTORE_SETTING_ROW(scope, name24, arg, apply, dflt, meaning) \
    {{arg, VSTORE_NAME24_##scope(name24), dflt, meaning}, &apply},
