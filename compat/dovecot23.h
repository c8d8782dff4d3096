/* Dovecot 2.3 (2.3.19.1): what differs from 2.4. Included by dovecot_api.h only. */
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

namespace compat {

inline const char *request_service(const struct auth_request *r)
{
    return r->fields.service == nullptr ? "" : r->fields.service;
}

inline void log_unknown_user(struct auth_request *r)
{
    auth_request_log_unknown_user(r, AUTH_SUBSYS_DB);
}

/* 1 = match, 0 = mismatch (logged by Dovecot), -1 = the hash is unusable (logged). */
inline int password_verify(struct auth_request *r, const char *plain, const std::string &hash,
                           const std::string &scheme)
{
    return auth_request_password_verify(r, plain, hash.c_str(), scheme.c_str(), AUTH_SUBSYS_DB);
}

inline void log_password_mismatch(struct auth_request *r)
{
    auth_request_log_password_mismatch(r, AUTH_SUBSYS_DB);
}

/* 2.3 has no per-passdb/userdb `fields` settings to apply: the `override_fields` and
   `default_fields` args are applied by Dovecot itself. Always succeeds. */
inline bool apply_passdb_fields(struct auth_request *) { return true; }
inline bool apply_userdb_fields(struct auth_request *) { return true; }

/* The %variables of a cache key, in the order of CacheKeyPart. */
constexpr const char *kCacheKeyVars[] = {"%u", "%s", "%r", "%{local_name}"};

/* A cache key from its %variables. */
inline const char *parse_cache_key(pool_t pool, const char *key) { return auth_cache_parse_key(pool, key); }

/* The userdb's mail location: 2.3 has one `mail` string, in which a ':' of the path is
   written '::' so that users/Bob:Smith is not cut at the colon. */
inline void set_userdb_maildir(struct auth_request *r, const std::string &path)
{
    auth_request_set_userdb_field(r, "mail", maildir_location(path).c_str());
}

/* The user's quota limits, as the quota plugin's quota_rule for the default root. */
inline void set_userdb_quota(struct auth_request *r, std::optional<uint64_t> bytes,
                             std::optional<uint64_t> messages)
{
    const std::string rule = quota_rule(bytes, messages);
    if (!rule.empty())
        auth_request_set_userdb_field(r, "quota_rule", rule.c_str());
}

/* The driver's `blocking` arg decides whether it runs in auth workers. */
inline void set_blocking(struct passdb_module *m, bool blocking) { m->blocking = blocking; }
inline void set_blocking(struct userdb_module *m, bool blocking) { m->blocking = blocking; }
/* Whether the auth process itself may look up in this module (known at preinit). */
inline bool may_run_in_process(bool blocking) { return !blocking; }

/* preinit of a passdb or userdb module: args as Dovecot gives them; a failure (bad args)
   stops Dovecot with the reason, as 2.3's own drivers do. */
template <class Module, Module *(*create)(pool_t, const DriverConfig &), const char *db, const char *driver>
Module *db_preinit(pool_t pool, const char *args)
{
    try {
        DriverConfig config;
        std::string error;
        if (!vstore::split_args_words(args == nullptr ? "" : args, &config.words, &error))
            throw std::invalid_argument(error);
        return create(pool, config);
    } catch (const std::exception &e) {
        i_fatal("%s %s: %s", db, driver, e.what());
    }
}

constexpr char kPassdb[] = "passdb";
constexpr char kUserdb[] = "userdb";
template <passdb_create_t create, const char *driver>
constexpr auto passdb_preinit = db_preinit<struct passdb_module, create, kPassdb, driver>;
template <userdb_create_t create, const char *driver>
constexpr auto userdb_preinit = db_preinit<struct userdb_module, create, kUserdb, driver>;

}  // namespace compat
