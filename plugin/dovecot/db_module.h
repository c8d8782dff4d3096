// A driver's passdb and userdb modules: Dovecot's module struct with the driver's store
// (shared by a passdb and a userdb of the same settings) and, for a passdb, its verification
// threads. One template for both drivers; the driver files keep only their callbacks.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>
#include <utility>

#include "fs_broker.h"
#include "glue.h"
#include "password_verify.h"
#include "vmailmgr_store.h"

namespace glue {

template <class Store>
struct PassdbModule {
    struct passdb_module module;  // first: Dovecot hands back a pointer to it
    std::shared_ptr<Store> *store;
    VerifyThreads *threads;
    bool brokered;  // registered with the store broker at preinit
};

template <class Store>
struct UserdbModule {
    struct userdb_module module;  // first, as above
    std::shared_ptr<Store> *store;
    bool brokered;
};

template <class Store>
PassdbModule<Store> &passdb_of(struct auth_request *r)
{
    return *reinterpret_cast<PassdbModule<Store> *>(r->passdb->passdb);
}

template <class Store>
Store &userdb_store(struct auth_request *r)
{
    return **reinterpret_cast<UserdbModule<Store> *>(r->userdb->userdb)->store;
}

// Logs the store's start-up problems once per store, in the process that reads it (the
// auth process for a non-blocking db, a worker for a blocking one), with what the process is
// and how to fix what it may not read.
void log_startup_problems(const char *driver, const void *store, const std::vector<std::string> &problems,
                          bool blocking);

// The start-up problems of a store, on a store of its own (the live one's caches and watches
// are made by lookups only).
inline std::vector<std::string> fresh_startup_problems(vstore::VmailmgrStore &store)
{
    return vstore::VmailmgrStore(store.settings(), store.files()).startup_problems();
}
template <class Source>
std::vector<std::string> fresh_startup_problems(Source &source)
{
    return source.startup_problems();
}

// Runs the store's start-up checks (exceptions logged, never thrown into Dovecot).
template <class Store>
void check_at_startup(const char *driver, Store &store, bool blocking)
{
    try {
        log_startup_problems(driver, &store, fresh_startup_problems(store), blocking);
    } catch (const std::exception &e) {
        compat::log_global_error(std::string(driver) + ": start-up check failed: " + e.what());
    }
}

template <class Store, const char *driver>
void init_passdb(struct passdb_module *module)
{
    auto *m = reinterpret_cast<PassdbModule<Store> *>(module);
    vstore::fs_broker::seal();  // every module's preinit has run: the broker serves no new store
    if (m->brokered && m->module.blocking)
        vstore::fs_broker::release();  // 2.4 with use_worker = yes: the auth process reads nothing
    if (m->module.blocking && !compat::in_auth_worker())
        return;  // the workers read the store: they check it
    check_at_startup(driver, **m->store, m->module.blocking);
}

template <class Store, const char *driver>
void init_userdb(struct userdb_module *module)
{
    auto *m = reinterpret_cast<UserdbModule<Store> *>(module);
    vstore::fs_broker::seal();
    if (m->brokered && m->module.blocking)
        vstore::fs_broker::release();
    if (m->module.blocking && !compat::in_auth_worker())
        return;
    check_at_startup(driver, **m->store, m->module.blocking);
}

// cache_key: the request fields (compat::CacheKeyPart) the driver's verdict depends on.
template <class Store, class Settings>
struct passdb_module *create_passdb(pool_t pool, const compat::DriverConfig &config, Settings settings,
                                    unsigned cache_key)
{
    auto *m = p_new(pool, PassdbModule<Store>, 1);
    m->brokered = broker_store(settings, compat::may_run_in_process(settings.blocking));  // forks: before the threads
    m->threads = new VerifyThreads(settings.verify_threads);
    compat::set_blocking(&m->module, settings.blocking);
    m->store = new std::shared_ptr<Store>(shared_store<Store>(config, std::move(settings)));
    m->module.default_cache_key = compat::cache_key(pool, cache_key);
    // Stored hashes without {SCHEME} are crypt(3).
    m->module.default_pass_scheme = "CRYPT";
    return &m->module;
}

template <class Store>
void deinit_passdb(struct passdb_module *module)
{
    auto *m = reinterpret_cast<PassdbModule<Store> *>(module);
    delete m->threads;
    m->threads = nullptr;
    delete m->store;
    m->store = nullptr;
}

template <class Store, class Settings>
struct userdb_module *create_userdb(pool_t pool, const compat::DriverConfig &config, Settings settings,
                                    unsigned cache_key)
{
    auto *m = p_new(pool, UserdbModule<Store>, 1);
    m->brokered = broker_store(settings, compat::may_run_in_process(settings.blocking));
    compat::set_blocking(&m->module, settings.blocking);
    m->store = new std::shared_ptr<Store>(shared_store<Store>(config, std::move(settings)));
    m->module.default_cache_key = compat::cache_key(pool, cache_key);
    return &m->module;
}

template <class Store>
void deinit_userdb(struct userdb_module *module)
{
    auto *m = reinterpret_cast<UserdbModule<Store> *>(module);
    delete m->store;
    m->store = nullptr;
}

}  // namespace glue
