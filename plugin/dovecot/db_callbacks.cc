#include "db_callbacks.h"

#include <string>
#include <utility>

#include "glue.h"

namespace glue {

vstore::LoginRequest login_request(struct auth_request *r, std::string *storage)
{
    *storage = compat::request_remote_ip(r);
    return {compat::request_user(r), compat::request_service(r), *storage, compat::request_local_name(r)};
}

void verify_plain(struct auth_request *r, const char *driver, const char *password, verify_plain_callback_t *callback,
                  const vstore::HashCostLimits &limits, VerifyThreads *threads, const std::function<Decided()> &decide)
{
    Decided decided;
    bool ok = guarded(r, false, [&] {
        decided = decide();
        return true;
    });
    if (!ok) {
        callback(PASSDB_RESULT_INTERNAL_FAILURE, r);
        return;
    }
    verify_plain_decided(r, driver, password, callback, limits, threads, std::move(decided));
}

void verify_plain_decided(struct auth_request *r, const char *driver, const char *password,
                          verify_plain_callback_t *callback, const vstore::HashCostLimits &limits,
                          VerifyThreads *threads, Decided decided)
{
    PasswordCheck check;
    enum passdb_result result = guarded(r, PASSDB_RESULT_INTERNAL_FAILURE, [&] {
        vstore::LoginDecision &d = decided.decision;
        log_notes(r, driver, d.notes);
        log_outcome(r, driver, d.before);
        if (!d.before.is_ok())
            return to_passdb_result(d.before.verdict);
        if (refuse_empty_password(r, driver, password, &d.password))
            return PASSDB_RESULT_PASSWORD_MISMATCH;
        check.scheme = std::move(d.password.scheme);
        check.hash = std::move(d.password.hash);
        check.reply_hash = d.password.reply_hash;
        check.owner = std::move(decided.owner);
        // After the password, so that a wrong password never learns whether the account is
        // restricted (vchkpw's order).
        check.after_match = [r, driver, after = std::move(d.after_match), user = std::move(d.user),
                             on_login = std::move(decided.on_login)] {
            log_outcome(r, driver, after);
            if (!after.is_ok())
                return to_passdb_result(after.verdict);
            compat::set_field(r, "user", user);
            if (on_login)
                on_login();
            return passdb_ok(r);
        };
        return PASSDB_RESULT_OK;
    });
    if (result != PASSDB_RESULT_OK) {
        callback(result, r);
        return;
    }
    verify_password_then(r, driver, limits, threads, std::move(check), password, callback);
}

void lookup_credentials(struct auth_request *r, const char *driver, lookup_credentials_callback_t *callback,
                        const std::function<vstore::LoginDecision()> &decide)
{
    vstore::LoginDecision d;
    if (!guarded(r, false, [&] {
            d = decide();
            return true;
        })) {
        callback(PASSDB_RESULT_INTERNAL_FAILURE, nullptr, 0, r);
        return;
    }
    lookup_credentials_decided(r, driver, callback, std::move(d));
}

void lookup_credentials_decided(struct auth_request *r, const char *driver, lookup_credentials_callback_t *callback,
                                vstore::LoginDecision d)
{
    vstore::PasswordToCheck credentials;
    enum passdb_result result = guarded(r, PASSDB_RESULT_INTERNAL_FAILURE, [&] {
        log_notes(r, driver, d.notes);
        const vstore::Outcome &o = d.before.is_ok() ? d.after_match : d.before;
        log_outcome(r, driver, o);
        if (!o.is_ok()) {
            compat::wipe(d.password.hash);
            return to_passdb_result(o.verdict);
        }
        credentials = std::move(d.password);
        compat::set_field(r, "user", d.user);
        return passdb_ok(r);
    });
    if (result != PASSDB_RESULT_OK) {
        callback(result, nullptr, 0, r);
        return;
    }
    compat::handle_credentials(result, credentials.hash, credentials.scheme, callback, r);
    compat::wipe(credentials.hash);
}

void userdb_lookup(struct auth_request *r, const char *driver, userdb_callback_t *callback,
                   const std::function<vstore::Outcome(vstore::UserdbView *)> &lookup)
{
    vstore::UserdbView view;
    vstore::Outcome o;
    if (!guarded(r, false, [&] {
            o = lookup(&view);
            return true;
        })) {
        callback(USERDB_RESULT_INTERNAL_FAILURE, r);
        return;
    }
    userdb_answer(r, driver, callback, o, view);
}

void userdb_answer(struct auth_request *r, const char *driver, userdb_callback_t *callback, const vstore::Outcome &o,
                   const vstore::UserdbView &view)
{
    enum userdb_result result = guarded(r, USERDB_RESULT_INTERNAL_FAILURE, [&] {
        log_notes(r, driver, view.notes);
        log_outcome(r, driver, o);
        if (!o.is_ok())
            return to_userdb_result(o.verdict);
        for (const std::string &warning : view.warnings)
            compat::log_warning(r, std::string(driver) + ": " + warning);
        compat::set_userdb_view(r, view);
        return userdb_ok(r);
    });
    callback(result, r);
}

}  // namespace glue
