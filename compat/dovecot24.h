/* Dovecot 2.4 (2.4.1 to 2.4.5): what differs from 2.3, and within 2.4 by release
   (VSTORE_DOVECOT_AT_LEAST). Included by dovecot_api.h only. */
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

#include "dovecot24_settings.h"

namespace compat {

/* 2.4 calls the service the protocol. */
inline const char *request_service(const struct auth_request *r)
{
    return r->fields.protocol == nullptr ? "" : r->fields.protocol;
}

inline void log_unknown_user(struct auth_request *r) { auth_request_db_log_unknown_user(r); }

/* 1 = match, 0 = mismatch (logged by Dovecot), -1 = the hash is unusable (logged). */
inline int password_verify(struct auth_request *r, const char *plain, const std::string &hash,
                           const std::string &scheme)
{
    switch (auth_request_db_password_verify(r, plain, hash.c_str(), scheme.c_str())) {
    case PASSDB_RESULT_OK:
        return 1;
    case PASSDB_RESULT_PASSWORD_MISMATCH:
        return 0;
    default:
        return -1;
    }
}

inline void log_password_mismatch(struct auth_request *r) { auth_request_db_log_password_mismatch(r); }

/* Applies the passdb's / userdb's `fields { }` settings after a successful lookup; false
   (logged by Dovecot) when one of them fails to expand. */
inline bool apply_passdb_fields(struct auth_request *r)
{
    return auth_request_set_passdb_fields(r, nullptr) == 0;
}
inline bool apply_userdb_fields(struct auth_request *r)
{
    return auth_request_set_userdb_fields(r, nullptr) == 0;
}

/* The %variables of a cache key, in the order of CacheKeyPart. */
constexpr const char *kCacheKeyVars[] = {"%{user}", "%{protocol}", "%{remote_ip}", "%{local_name}"};

/* A cache key from its %variables. 2.4.2 replaced auth_cache_parse_key() by
   auth_cache_parse_key_and_fields() (no fields: NULL); 2.4.3 made that one report a key it
   cannot use (our keys always have a variable) instead of stopping the process. Called at
   preinit only, where an exception becomes the preinit's error. */
inline const char *parse_cache_key(pool_t pool, const char *key)
{
#if VSTORE_DOVECOT_AT_LEAST(2, 4, 3)
    const char *parsed, *error;
    if (auth_cache_parse_key_and_fields(pool, key, nullptr, nullptr, &parsed, &error) < 0)
        throw std::invalid_argument(error);
    return parsed;
#elif VSTORE_DOVECOT_AT_LEAST(2, 4, 2)
    return auth_cache_parse_key_and_fields(pool, key, nullptr, nullptr);
#else
    return auth_cache_parse_key(pool, key);
#endif
}

/* The userdb's mail location: 2.4 has separate mail_driver and mail_path settings, so the
   path is given as it is, colons and all. */
inline void set_userdb_maildir(struct auth_request *r, const std::string &path)
{
    auth_request_set_userdb_field(r, "mail_driver", "maildir");
    auth_request_set_userdb_field(r, "mail_path", path.c_str());
}

/* The user's quota limits, as 2.4's quota settings (for every quota root the config has). */
inline void set_userdb_quota(struct auth_request *r, std::optional<uint64_t> bytes,
                             std::optional<uint64_t> messages)
{
    if (bytes)
        auth_request_set_userdb_field(r, "quota_storage_size", std::to_string(*bytes).c_str());
    if (messages)
        auth_request_set_userdb_field(r, "quota_message_count", std::to_string(*messages).c_str());
}

/* 2.4 decides this from the passdb/userdb `use_worker` setting (default no, as for
   Dovecot's own drivers) after preinit; there is no `blocking` arg. */
inline void set_blocking(struct passdb_module *, bool) {}
inline void set_blocking(struct userdb_module *, bool) {}
/* use_worker is not known at preinit: the auth process may look up. */
inline bool may_run_in_process(bool) { return true; }

/* The driver's module from the driver's named settings, by name, for the store's settings
   table. A failure (a bad setting) goes back to Dovecot, which stops with it, naming the
   passdb/userdb. */
template <class Module, Module *(*create)(pool_t, const DriverConfig &), const char *driver>
int create_module(pool_t pool, struct event *event, Module **module_r, const char **error_r)
{
    const char *const *pairs;
    if (vstore_settings_get(event, driver, &pairs, error_r) < 0)
        return -1;
    try {
        DriverConfig config;
        config.names = vstore::SettingNames::Named24;
        for (; pairs[0] != nullptr && pairs[1] != nullptr; pairs += 2)
            config.words.emplace_back(pairs[0], pairs[1]);
        *module_r = create(pool, config);
    } catch (const std::exception &e) {
        *error_r = t_strdup(e.what());
        return -1;
    }
    return 0;
}

/* preinit of a passdb or userdb module. Since 2.4.3 preinit is told whether the auth cache
   is on for this passdb/userdb (its use_cache and auth_cache_size > 0); Dovecot's own drivers
   then leave default_cache_key NULL, and so does this one. */
#if VSTORE_DOVECOT_AT_LEAST(2, 4, 3)
template <class Module, class Params, Module *(*create)(pool_t, const DriverConfig &), const char *driver>
int db_preinit(pool_t pool, struct event *event, const Params *params, Module **module_r, const char **error_r)
{
    if (create_module<Module, create, driver>(pool, event, module_r, error_r) < 0)
        return -1;
    if (!params->use_cache)
        (*module_r)->default_cache_key = nullptr;
    return 0;
}

template <passdb_create_t create, const char *driver>
constexpr auto passdb_preinit = db_preinit<struct passdb_module, struct passdb_parameters, create, driver>;
template <userdb_create_t create, const char *driver>
constexpr auto userdb_preinit = db_preinit<struct userdb_module, struct userdb_parameters, create, driver>;
#else
template <passdb_create_t create, const char *driver>
constexpr auto passdb_preinit = create_module<struct passdb_module, create, driver>;
template <userdb_create_t create, const char *driver>
constexpr auto userdb_preinit = create_module<struct userdb_module, create, driver>;
#endif

}  // namespace compat
