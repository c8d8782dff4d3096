// The store broker's client: how an auth process that gave up root still reads the stores
// in-process. The drivers fork the broker at preinit, while the auth process is still root;
// it then makes the stores' file calls as each store's owner. Why, what it serves and what
// a compromised auth process could still do: docs/security.md ("The store broker"). Its
// parts, split by role as OpenSSH splits its monitor:
//   broker_wire.h    the messages and descriptor passing (both sides);
//   broker_server.h  the privileged side: privilege drop, the request loop;
//   broker_policy.h  what is served: pure functions over root's files, unit-tested as a table;
//   fs_broker.h      this side: start, register stores, files() for the stores.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "broker_policy.h"
#include "file_access.h"
#include "file_util.h"

namespace vstore {

namespace fs_broker {

// Whether this process is root now and will give it up after start-up: Dovecot's
// RESTRICT_SETUID names a non-root user (the auth process under stock settings).
bool wanted();

// Forks the broker, once per process; true when one runs (already, or now).
bool start(std::string *error);
bool active();
pid_t pid();

// Tells the broker about a store whose files it serves. Refused once sealed.
bool add_store(const BrokeredStore &store, std::string *error);
// A module that registered a store turned out to look up in the auth workers (2.4 knows
// use_worker only after preinit): when no module needs the broker any more, it is ended.
void release();
// No more stores: sent when the drivers initialise (Dovecot has dropped root by then); the
// broker also seals itself at the first file request.
void seal();

// The stores' file calls through the broker (file_access.h), each with its owner's rights:
// an errno and the broker's words, EPERM when it refuses the request (an owner it does not
// serve, a bad path), ENOTCONN when it is gone or silent. A call without an owner is made in
// this process, with its own rights.
FileAccess &files();
// What a store in a process that may start a broker is handed (the auth process, vstore
// config-check): its own calls as the owner while the process is root (preinit), files()
// once it gave up root with a broker started, its own rights without one.
FileAccess &process_files();

// Called once, on the thread that found it, when the broker is gone or hung: a process that
// gave up root cannot start another, so the glue has Dovecot start a new auth process.
void set_lost_handler(void (*handler)(const std::string &why));

}  // namespace fs_broker
}  // namespace vstore
