// The userdb callbacks of both drivers: they ask the store for its view and only sequence it
// for Dovecot (log, reply). The drivers' files say how to ask their store; the order of
// things lives here once. (The passdb's: passdb_login.h.)
#pragma once

#include <functional>
#include <string>

#include "dovecot_api.h"
#include "login.h"

namespace glue {

// A userdb lookup: the store's view rendered for this Dovecot, or the refusal logged.
void userdb_lookup(struct auth_request *r, const char *driver, userdb_callback_t *callback,
                   const std::function<vstore::Outcome(vstore::UserdbView *)> &lookup);

// The userdb lookup's part after the store answered.
void userdb_answer(struct auth_request *r, const char *driver, userdb_callback_t *callback, const vstore::Outcome &o,
                   const vstore::UserdbView &view);

// The request as the stores see it; remote_ip is kept in *storage.
vstore::LoginRequest login_request(struct auth_request *r, std::string *storage);

}  // namespace glue
