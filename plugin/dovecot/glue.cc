#include "db_module.h"

#include <pwd.h>
#include <unistd.h>

#include <set>
#include <stdexcept>

#include "fs_broker.h"

namespace glue {

namespace {

void broker_lost(const std::string &why)
{
    // Only a root process can start a broker: a new auth process, which Dovecot starts at once.
    const std::string message = "store fault: " + why + "; ending this auth process so that Dovecot starts a new one";
    compat::log_global_error(message);
    compat::stop_process(message);
}

bool broker(const vstore::BrokeredStore &store, bool in_process)
{
    if (!in_process || compat::in_auth_worker() || !vstore::fs_broker::wanted())
        return false;
    std::string error;
    vstore::fs_broker::set_lost_handler(broker_lost);
    if (!vstore::fs_broker::start(&error) || !vstore::fs_broker::add_store(store, &error))
        throw std::runtime_error("cannot start the store broker: " + error);
    return true;
}

}  // namespace

bool broker_store(const vstore::VpopmailSettings &settings, bool in_process)
{
    return broker({vstore::BrokeredStore::Kind::Vpopmail, settings.qmail_dir, settings.vpopmail_dir,
                   settings.access.home_roots, 0},
                  in_process);
}

bool broker_store(const vstore::VmailmgrSettings &settings, bool in_process)
{
    return broker({vstore::BrokeredStore::Kind::Vmailmgr, settings.qmail_dir, settings.config_dir,
                   settings.access.home_roots, settings.first_valid_uid},
                  in_process);
}

namespace {

std::string process_identity()
{
    const uid_t uid = geteuid();
    struct passwd pw, *res = nullptr;
    char buf[1024];
    std::string name = getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != nullptr ? res->pw_name : "?";
    return std::string(compat::in_auth_worker() ? "this auth worker" : "the auth process") + " runs as uid " +
           std::to_string(uid) + " (" + name + ")";
}

}  // namespace

void log_startup_problems(const char *driver, const void *store, const std::vector<std::string> &problems,
                          bool blocking)
{
    // a passdb and a userdb that share a store check it once
    static std::set<const void *> checked;
    if (!checked.insert(store).second)
        return;
    for (const std::string &p : problems) {
        std::string fix;
        if (p.find("Permission denied") != std::string::npos)
            fix = blocking ? "; the auth workers read the store: leave service auth-worker { user } at root "
                             "(Dovecot's default) or set it to the store's owner"
                           : vstore::fs_broker::active()
                                 ? "; the auth process reads the store through the store broker, as the store's "
                                   "owners: see the broker's reason above"
                                 : "; the auth process reads the store with its own rights (there is no store broker: "
                                   "Dovecot did not start it as root): use blocking=yes (2.4: use_worker = yes), or run "
                                   "the auth process as the store's owner (service auth { user = ... })";
        compat::log_global_warning(std::string(driver) + ": start-up check: " + p + " (" + process_identity() + ")" +
                                   fix);
    }
}

enum userdb_result to_userdb_result(vstore::Verdict v)
{
    using vstore::Verdict;
    switch (v) {
    case Verdict::Ok: return USERDB_RESULT_OK;
    case Verdict::InvalidLogin:
    case Verdict::UserUnknown:
    case Verdict::Disabled: return USERDB_RESULT_USER_UNKNOWN;
    case Verdict::StoreFault: return USERDB_RESULT_INTERNAL_FAILURE;
    }
    return USERDB_RESULT_INTERNAL_FAILURE;
}

}  // namespace glue
