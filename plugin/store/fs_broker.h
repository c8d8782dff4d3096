// The store broker: how an auth process that gave up root still reads the stores in-process.
//
// Dovecot runs the auth process as `dovecot`; vpopmail stores are 0600 vpopmail in 0700
// directories, vmailmgr stores 0600 per base user. Rather than sending every lookup to a root
// auth worker (a round trip that costs more than a cheap hash) or running the auth process as
// a store owner, the drivers fork this small process while the auth process is still root
// (preinit). It keeps only CAP_SETUID and CAP_SETGID and does one thing: open, stat, watch
// and replace `lastauth` as a store owner (setfsuid, as the workers do), handing back
// descriptors and results. The auth process parses everything it reads; the broker never
// reads a byte a store owner wrote. OpenSSH's privilege separation: the smallest part holds
// the rights, and only for what needs them.
//
// It serves only the stores registered at preinit, before any client could speak to the auth
// process, and for each only the store's own files (BrokerArea, broker_policy.h): each
// vpopmail domain of users/cdb below <vpopmail_dir>/domains, as its uid/gid, and
// vpopmail_dir's etc/; each vmailmgr base user named in control/virtualdomains that the
// driver accepts, in its home: the store file password-file names and the settings the
// driver reads. It learns whom it serves from root's files alone (users/cdb, virtualdomains,
// getpwnam()), read again as soon as one of them changes, and links no store class, record
// decoder or verdict (broker_policy.h). A compromised auth process can read the store files a
// root worker reads for it and write lastauth in a user's directory, and nothing else: no
// mail, no file of root's or of other users.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "broker_policy.h"
#include "file_access.h"
#include "file_util.h"

namespace vstore {

struct BrokeredStore {
    enum class Kind { Vpopmail, Vmailmgr };
    Kind kind = Kind::Vpopmail;
    std::string qmail_dir;
    std::string dir;  // vpopmail_dir, or vmailmgr's config_dir
    std::vector<std::string> home_roots;  // home_roots=
    uid_t first_valid_uid = 500;          // vmailmgr: base users below it are not served
};

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

// Called once, on the thread that found it, when the broker is gone or hung: a process that
// gave up root cannot start another, so the glue has Dovecot start a new auth process.
void set_lost_handler(void (*handler)(const std::string &why));

// How the broker finds a vmailmgr base user: getpwnam() unless a test sets another before
// start() (the broker is a fork of this process; nothing can change it afterwards).
struct BaseUserEntry {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home;
};
using BaseUserLookup = bool (*)(const std::string &name, BaseUserEntry *out);
void set_base_user_lookup(BaseUserLookup lookup);

}  // namespace fs_broker
}  // namespace vstore
