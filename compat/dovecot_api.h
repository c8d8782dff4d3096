/* The one place that includes Dovecot's headers and knows which Dovecot it is built for.
   The glue in plugin/dovecot/ calls only what this file offers, so a new Dovecot
   version changes this file and not the drivers. This version: Dovecot 2.3 (2.3.19.1). */
#pragma once

#include <string>

extern "C" {
#include "config.h"
#include "auth-common.h"
#include "auth-request.h"
#include "passdb.h"
#include "userdb.h"
#include "password-scheme.h"
#include "safe-memset.h"
}

namespace compat {

/* Exported as <module>_version: Dovecot refuses a module built for another ABI. */
#define VSTORE_DOVECOT_ABI_VERSION DOVECOT_ABI_VERSION

inline const char *request_user(const struct auth_request *r) { return r->fields.user; }
inline const char *request_service(const struct auth_request *r)
{
    return r->fields.service == nullptr ? "" : r->fields.service;
}
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

inline void log_debug(struct auth_request *r, const std::string &msg)
{
    e_debug(authdb_event(r), "%s", msg.c_str());
}
inline void log_info(struct auth_request *r, const std::string &msg)
{
    e_info(authdb_event(r), "%s", msg.c_str());
}
inline void log_warning(struct auth_request *r, const std::string &msg)
{
    e_warning(authdb_event(r), "%s", msg.c_str());
}
inline void log_error(struct auth_request *r, const std::string &msg)
{
    e_error(authdb_event(r), "%s", msg.c_str());
}
inline void log_unknown_user(struct auth_request *r)
{
    auth_request_log_unknown_user(r, AUTH_SUBSYS_DB);
}
/* For errors outside any request (configuration, iteration start). */
inline void log_global_error(const std::string &msg) { i_error("%s", msg.c_str()); }
[[noreturn]] inline void fatal(const std::string &msg) { i_fatal("%s", msg.c_str()); }

/* The passdb/userdb reply. */
inline void set_field(struct auth_request *r, const char *name, const std::string &value)
{
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

/* 1 = match, 0 = mismatch (logged by Dovecot), -1 = the hash is unusable (logged). */
inline int password_verify(struct auth_request *r, const char *plain, const std::string &hash,
                           const std::string &scheme)
{
    return auth_request_password_verify(r, plain, hash.c_str(), scheme.c_str(), AUTH_SUBSYS_DB);
}

inline void handle_credentials(enum passdb_result result, const std::string &password,
                               const std::string &scheme, lookup_credentials_callback_t *callback,
                               struct auth_request *r)
{
    passdb_handle_credentials(result, password.c_str(), scheme.c_str(), callback, r);
}

inline void wipe(std::string &s)
{
    if (!s.empty())
        safe_memset(&s[0], 0, s.size());
}

}  // namespace compat
