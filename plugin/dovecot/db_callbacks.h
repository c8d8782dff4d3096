// The passdb and userdb callbacks of both drivers: they ask the store for its decision or
// view and only sequence it for Dovecot (log, password check, reply). The drivers' files say
// how to ask their store; the order of things lives here once.
#pragma once

#include <functional>
#include <string>

#include "dovecot_api.h"
#include "hash_cost.h"
#include "login.h"
#include "password_verify.h"

namespace glue {

// A store's decision on a login, and what else the driver does once the login succeeded
// (vpopmail: lastauth); the hook never fails the login.
struct Decided {
    vstore::LoginDecision decision;
    std::function<void()> on_login;
    // The store owner the account belongs to (vpopmail: its domain, vmailmgr: its base user),
    // for the verification threads' shares; empty when the lookup failed before finding it.
    std::string owner;
};

// verify_plain: the refusals decided before the password, an empty password, the password
// (on the verification threads when they take it), then the check told only after a match,
// the user field and the hook.
void verify_plain(struct auth_request *r, const char *driver, const char *password, verify_plain_callback_t *callback,
                  const vstore::HashCostLimits &limits, VerifyThreads *threads, const std::function<Decided()> &decide);

// verify_plain's part after the decision, for a decision that came later (an SQL answer).
void verify_plain_decided(struct auth_request *r, const char *driver, const char *password,
                          verify_plain_callback_t *callback, const vstore::HashCostLimits &limits,
                          VerifyThreads *threads, Decided decided);

// lookup_credentials: Dovecot checks the response itself, so the checks told after a match
// are applied before the credentials are handed over.
void lookup_credentials(struct auth_request *r, const char *driver, lookup_credentials_callback_t *callback,
                        const std::function<vstore::LoginDecision()> &decide);

// lookup_credentials' part after the decision.
void lookup_credentials_decided(struct auth_request *r, const char *driver, lookup_credentials_callback_t *callback,
                                vstore::LoginDecision d);

// A userdb lookup: the store's view rendered for this Dovecot, or the refusal logged.
void userdb_lookup(struct auth_request *r, const char *driver, userdb_callback_t *callback,
                   const std::function<vstore::Outcome(vstore::UserdbView *)> &lookup);

// The userdb lookup's part after the store answered.
void userdb_answer(struct auth_request *r, const char *driver, userdb_callback_t *callback, const vstore::Outcome &o,
                   const vstore::UserdbView &view);

// The request as the stores see it; remote_ip is kept in *storage.
vstore::LoginRequest login_request(struct auth_request *r, std::string *storage);

}  // namespace glue
