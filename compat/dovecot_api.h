/* The one place that includes Dovecot's headers and knows which Dovecot it is built for.
   The glue in plugin/dovecot/ calls only what this file offers, so a new Dovecot version
   changes compat/ and not the drivers. What is the same in 2.3 and 2.4 is here; what
   differs is in dovecot23.h / dovecot24.h, chosen by the version in Dovecot's config.h. */
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "dovecot_formats.h"
#include "driver_args.h"
#include "log_escape.h"
#include "login.h"
#include "settings_table.h"

#include "dovecot_version.h"

extern "C" {
#include "auth-common.h"
#include "auth-settings.h"
#include "auth-request.h"
#include "auth-cache.h"
#include "passdb.h"
#include "userdb.h"
#include "password-scheme.h"
#include "safe-memset.h"
#include "ioloop.h"
#include "master-service.h"
}

#include "dovecot_ioloop.h"

namespace compat {

/* Exported as <module>_version: Dovecot refuses a module built for another ABI. */
#define VSTORE_DOVECOT_ABI_VERSION DOVECOT_ABI_VERSION

/* What a driver builds its module from: its settings by name. On 2.3 the words of the
   passdb/userdb `args` line (qmail_dir=...); on 2.4 the driver's named settings
   (vpopmail_qmail_dir = ...). The store's settings table reads both. */
struct DriverConfig {
    vstore::SettingWords words;
    vstore::SettingNames names = vstore::SettingNames::Args;
};
typedef struct passdb_module *passdb_create_t(pool_t pool, const DriverConfig &config);
typedef struct userdb_module *userdb_create_t(pool_t pool, const DriverConfig &config);

/* The request fields a cache key may depend on. */
enum CacheKeyPart : unsigned {
    kKeyUser = 1,
    kKeyService = 2,
    kKeyRemoteIp = 4,
    kKeyLocalName = 8,
};

inline const char *request_user(const struct auth_request *r) { return r->fields.user; }
inline std::string request_remote_ip(const struct auth_request *r)
{
    if (r->fields.remote_ip.family == 0)
        return "";
    return net_ip2addr(&r->fields.remote_ip);
}
inline const char *request_local_name(const struct auth_request *r)
{
    return r->fields.local_name == nullptr ? "" : r->fields.local_name;
}

/* Every message goes through vstore::log_escape(): it carries bytes that store owners,
   database rows and clients wrote. */
inline void log_debug(struct auth_request *r, const std::string &msg)
{
    e_debug(authdb_event(r), "%s", vstore::log_escape(msg).c_str());
}
inline void log_info(struct auth_request *r, const std::string &msg)
{
    e_info(authdb_event(r), "%s", vstore::log_escape(msg).c_str());
}
inline void log_warning(struct auth_request *r, const std::string &msg)
{
    e_warning(authdb_event(r), "%s", vstore::log_escape(msg).c_str());
}
inline void log_error(struct auth_request *r, const std::string &msg)
{
    e_error(authdb_event(r), "%s", vstore::log_escape(msg).c_str());
}
/* For errors outside any request (configuration, iteration start). */
inline void log_global_error(const std::string &msg) { i_error("%s", vstore::log_escape(msg).c_str()); }
inline void log_global_info(const std::string &msg) { i_info("%s", vstore::log_escape(msg).c_str()); }
inline void log_global_warning(const std::string &msg) { i_warning("%s", vstore::log_escape(msg).c_str()); }
/* Ends this process cleanly after the current ioloop round (Dovecot's master starts a new
   one when a client connects again); before the ioloop runs, a Fatal with why. */
inline void stop_process(const std::string &why)
{
    if (current_ioloop == nullptr || !io_loop_is_running(current_ioloop))
        i_fatal("%s", vstore::log_escape(why).c_str());  // before the loop runs a stop would be forgotten
    master_service_stop(master_service);
}

/* The passdb/userdb reply. A `user` equal to the request's user is not set: Dovecot keeps
   every `user` field as a hidden extra field, and 2.3 then ends the client's reply with an
   empty field when no other extra field is visible ("OK\t1\tuser=a@b\t"). */
inline void set_field(struct auth_request *r, const char *name, const std::string &value)
{
    if (std::strcmp(name, "user") == 0 && r->fields.user != nullptr && value == r->fields.user)
        return;
    auth_request_set_field(r, name, value.c_str(), nullptr);
}
inline void set_password_field(struct auth_request *r, const std::string &hash, const char *scheme)
{
    auth_request_set_field(r, "password", hash.c_str(), scheme);
}
inline void set_userdb_field(struct auth_request *r, const char *name, const std::string &value)
{
    auth_request_set_userdb_field(r, name, value.c_str());
}

/* The answer to a credentials lookup: on PASSDB_RESULT_OK the password in the scheme the
   mechanism wants; any other result Dovecot answers itself, with no credentials (and, since
   2.4.5, no scheme: the callback's arguments differ by version, this call's do not). */
inline void handle_credentials(enum passdb_result result, const std::string &password,
                               const std::string &scheme, lookup_credentials_callback_t *callback,
                               struct auth_request *r)
{
    passdb_handle_credentials(result, password.c_str(), scheme.c_str(), callback, r);
}

/* Dovecot's first_valid_uid: the lowest uid a user may have (vmailmgr base users below it
   are system accounts, not stores). */
inline unsigned first_valid_uid()
{
    return global_auth_settings == nullptr ? 500 : global_auth_settings->first_valid_uid;
}

/* Whether this process is an auth worker (it serves one request at a time). */
inline bool in_auth_worker() { return worker; }

/* A request kept alive while its verification runs on a thread. */
inline void request_ref(struct auth_request *r) { auth_request_ref(r); }
inline void request_unref(struct auth_request *r) { auth_request_unref(&r); }

inline void wipe(std::string &s)
{
    if (!s.empty())
        safe_memset(&s[0], 0, s.size());
}

}  // namespace compat

#ifdef VSTORE_DOVECOT_23
#include "dovecot23.h"
#else
#include "dovecot24.h"
#endif

namespace compat {

/* The userdb reply for a store's view of the user. */
inline void set_userdb_view(struct auth_request *r, const vstore::UserdbView &view)
{
    set_field(r, "user", view.user);
    set_userdb_field(r, "uid", std::to_string(view.uid));
    set_userdb_field(r, "gid", std::to_string(view.gid));
    set_userdb_field(r, "home", view.home);
    set_userdb_maildir(r, view.maildir);
    set_userdb_quota(r, view.quota_bytes, view.quota_messages);
    for (const auto &[name, value] : view.extra_fields)
        set_userdb_field(r, name.c_str(), value);
}

/* The module's default auth cache key: the request fields its verdict depends on. */
inline const char *cache_key(pool_t pool, unsigned parts)
{
    std::string key;
    for (unsigned i = 0; i < sizeof(kCacheKeyVars) / sizeof(kCacheKeyVars[0]); i++) {
        if ((parts & (1u << i)) != 0)
            key += (key.empty() ? "" : "\t") + std::string(kCacheKeyVars[i]);
    }
    return parse_cache_key(pool, key.c_str());
}

/* A driver's functions, as Dovecot's passdb/userdb interface. The drivers name their
   functions; what a Dovecot version adds or drops (preinit's arguments; set_credentials,
   until 2.4.4) is filled in here. A constant: the interface is ready before any code runs. */
template <passdb_create_t create, const char *driver>
constexpr struct passdb_module_interface passdb_interface(decltype(passdb_module_interface::init) init,
                                                          decltype(passdb_module_interface::deinit) deinit,
                                                          decltype(passdb_module_interface::verify_plain) verify_plain,
                                                          decltype(passdb_module_interface::lookup_credentials)
                                                              lookup_credentials)
{
    struct passdb_module_interface iface{};  // set_credentials (until 2.4.4): none
    iface.name = driver;
    iface.preinit = passdb_preinit<create, driver>;
    iface.init = init;
    iface.deinit = deinit;
    iface.verify_plain = verify_plain;
    iface.lookup_credentials = lookup_credentials;
    return iface;
}

template <userdb_create_t create, const char *driver>
constexpr struct userdb_module_interface userdb_interface(decltype(userdb_module_interface::init) init,
                                                          decltype(userdb_module_interface::deinit) deinit,
                                                          decltype(userdb_module_interface::lookup) lookup,
                                                          decltype(userdb_module_interface::iterate_init) iterate_init,
                                                          decltype(userdb_module_interface::iterate_next) iterate_next,
                                                          decltype(userdb_module_interface::iterate_deinit)
                                                              iterate_deinit)
{
    struct userdb_module_interface iface{};
    iface.name = driver;
    iface.preinit = userdb_preinit<create, driver>;
    iface.init = init;
    iface.deinit = deinit;
    iface.lookup = lookup;
    iface.iterate_init = iterate_init;
    iface.iterate_next = iterate_next;
    iface.iterate_deinit = iterate_deinit;
    return iface;
}

}  // namespace compat
