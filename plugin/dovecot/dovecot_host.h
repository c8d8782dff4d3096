// The Host (host.h) of the running module: the login sequencing's Dovecot calls, made with
// compat::. PassdbLogin and VerifyThreads are the drivers' request object and verification
// threads (instantiated once, in passdb_login.cc).
#pragma once

#include <string>

#include "dovecot_api.h"
#include "host.h"
#include "passdb_login.h"
#include "password_verify.h"

namespace glue {

struct DovecotHost {
    using Request = struct auth_request;
    using VerifyCallback = verify_plain_callback_t *;
    using CredentialsCallback = lookup_credentials_callback_t *;

    static enum passdb_result to_passdb(PassResult result)
    {
        switch (result) {
        case PassResult::Ok: return PASSDB_RESULT_OK;
        case PassResult::PasswordMismatch: return PASSDB_RESULT_PASSWORD_MISMATCH;
        case PassResult::UserUnknown: return PASSDB_RESULT_USER_UNKNOWN;
        case PassResult::UserDisabled: return PASSDB_RESULT_USER_DISABLED;
        case PassResult::InternalFailure: return PASSDB_RESULT_INTERNAL_FAILURE;
        }
        return PASSDB_RESULT_INTERNAL_FAILURE;
    }

    static void log_debug(Request *r, const std::string &msg) { compat::log_debug(r, msg); }
    static void log_info(Request *r, const std::string &msg) { compat::log_info(r, msg); }
    static void log_error(Request *r, const std::string &msg) { compat::log_error(r, msg); }
    static void log_unknown_user(Request *r) { compat::log_unknown_user(r); }
    static void log_password_mismatch(Request *r) { compat::log_password_mismatch(r); }
    static void log_global_info(const std::string &msg) { compat::log_global_info(msg); }
    static void log_global_error(const std::string &msg) { compat::log_global_error(msg); }

    static void set_field(Request *r, const char *name, const std::string &value) { compat::set_field(r, name, value); }
    static void set_password_field(Request *r, const std::string &hash, const char *scheme)
    {
        compat::set_password_field(r, hash, scheme);
    }
    static bool apply_passdb_fields(Request *r) { return compat::apply_passdb_fields(r); }
    static void answer_plain(VerifyCallback callback, PassResult result, Request *r) { callback(to_passdb(result), r); }
    static void answer_credentials(CredentialsCallback callback, PassResult result, const std::string &hash,
                                   const std::string &scheme, Request *r)
    {
        compat::handle_credentials(to_passdb(result), hash, scheme, callback, r);
    }

    static int password_verify(Request *r, const char *plain, const std::string &hash, const std::string &scheme)
    {
        return compat::password_verify(r, plain, hash, scheme);
    }

    static void request_ref(Request *r) { compat::request_ref(r); }
    static void request_unref(Request *r) { compat::request_unref(r); }
    static void wipe(char *p, size_t n) noexcept { safe_memset(p, 0, n); }

    static bool in_auth_worker() { return compat::in_auth_worker(); }
    static struct io *watch_fd(int fd, void (*cb)(void *), void *ctx) { return compat::watch_fd(fd, cb, ctx); }
    static void unwatch_fd(struct io **io) { compat::unwatch_fd(io); }
    static struct timeout *call_next_round(void (*cb)(void *), void *ctx)
    {
        return compat::call_next_round(cb, ctx);
    }
    static void cancel_call(struct timeout **to) { compat::cancel_call(to); }
};

using PassdbLogin = PassdbLoginT<DovecotHost>;
using VerifyThreads = VerifyThreadsT<DovecotHost>;
extern template class PassdbLoginT<DovecotHost>;
extern template class VerifyThreadsT<DovecotHost>;

}  // namespace glue
