// Helpers shared by the drivers' Dovecot glue: outcome logging, result mapping, and the
// guard that keeps C++ exceptions out of Dovecot's C code.
#pragma once

#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "dovecot_api.h"
#include "dovecot_host.h"
#include "file_access.h"
#include "fs_broker.h"
#include "outcome.h"
#include "vmailmgr_settings.h"
#include "vpopmail_settings.h"

namespace glue {

// Runs body(); any exception is logged against the request and turned into fallback.
// Callbacks into Dovecot must be made *after* this returns, never from inside body.
template <class T, class Body>
T guarded(struct auth_request *r, T fallback, Body &&body) noexcept
{
    return guarded_by<DovecotHost>(r, std::move(fallback), std::forward<Body>(body));
}

// Logs why a lookup did not produce an account (host.h).
inline void log_outcome(struct auth_request *r, const char *driver, const vstore::Outcome &o)
{
    log_outcome_by<DovecotHost>(r, driver, o);
}

// A driver's settings, parsed at start-up through the store's settings table. Bad settings
// throw std::invalid_argument with the reason; compat's preinit hands it to Dovecot, which
// stops with it, as for its own drivers.
template <class Settings>
Settings parse_settings(const compat::DriverConfig &config)
{
    Settings settings;
    std::string error;
    if (!Settings::parse(config.words, config.names, &settings, &error))
        throw std::invalid_argument(error);
    return settings;
}

// The store for a driver's settings: a passdb and a userdb of one driver with the same
// settings share one store (one cache, one set of watches). Held by the modules; the registry
// only remembers stores that are alive.
template <class Store, class Settings>
std::shared_ptr<Store> shared_store(const compat::DriverConfig &config, Settings settings)
{
    static std::map<std::string, std::weak_ptr<Store>> stores;
    std::string key = config.names == vstore::SettingNames::Args ? "args" : "named";
    for (const auto &[name, value] : config.words)
        key += "\n" + name + "=" + value;
    if (auto store = stores[key].lock())
        return store;
    // its files as this process reaches them: as their owners while root, then through the broker
    auto store = std::make_shared<Store>(std::move(settings), vstore::fs_broker::process_files());
    stores[key] = store;
    return store;
}

// At preinit (root, before any thread), for a module the auth process itself may look up
// in: when the process will give up root, starts the store broker (fs_broker.h) and tells it
// which store to serve; true when it did. A broker that cannot start throws (a preinit error).
bool broker_store(const vstore::VpopmailSettings &settings, bool in_process);
bool broker_store(const vstore::VmailmgrSettings &settings, bool in_process);

// Logs what a store's lookup noted, at debug level.
inline void log_notes(struct auth_request *r, const char *driver, const std::vector<std::string> &notes)
{
    log_notes_by<DovecotHost>(r, driver, notes);
}

// A successful userdb lookup's result, once the userdb's own `fields` settings (2.4) are
// applied; a field that fails to expand makes it an internal failure (logged by Dovecot).
inline enum userdb_result userdb_ok(struct auth_request *r)
{
    return compat::apply_userdb_fields(r) ? USERDB_RESULT_OK : USERDB_RESULT_INTERNAL_FAILURE;
}

enum userdb_result to_userdb_result(vstore::Verdict v);

}  // namespace glue
