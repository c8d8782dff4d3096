// passdb driver "vmailmgr": thin glue between Dovecot and vstore::VmailmgrStore.
#include <ctime>
#include <memory>

#include "drivers.h"
#include "db_callbacks.h"
#include "db_module.h"
#include "vmailmgr_store.h"

namespace {

const char kDriver[] = "vmailmgr";

vstore::VmailmgrStore &store_of(struct auth_request *r) { return **glue::passdb_of<vstore::VmailmgrStore>(r).store; }

// The store's decision, and the base user who owns the account (its passwd.cdb); the account
// (and its stored password) does not outlive it.
glue::Decided decide(struct auth_request *r)
{
    vstore::VmailmgrAccount account;
    std::string remote_ip;
    glue::Decided decided;
    decided.decision = store_of(r).decide(glue::login_request(r, &remote_ip), time(nullptr), &account);
    compat::wipe(account.record.password);
    decided.owner = std::move(account.base.name);
    return decided;
}

void vmailmgr_verify_plain(struct auth_request *r, const char *password, verify_plain_callback_t *callback)
{
    glue::verify_plain(r, kDriver, password, callback, store_of(r).settings().access.hash_limits,
                       glue::passdb_of<vstore::VmailmgrStore>(r).threads,
                       [r] { return decide(r); });
}

void vmailmgr_lookup_credentials(struct auth_request *r, lookup_credentials_callback_t *callback)
{
    // "$0$" plaintext serves every challenge-response mechanism as PLAIN.
    glue::lookup_credentials(r, kDriver, callback, [r] { return decide(r).decision; });
}

struct passdb_module *vmailmgr_passdb_create(pool_t pool, const compat::DriverConfig &config)
{
    auto settings = glue::parse_settings<vstore::VmailmgrSettings>(config);
    settings.first_valid_uid = compat::first_valid_uid();
    // A login without a domain resolves through the connection's local name.
    return glue::create_passdb<vstore::VmailmgrStore>(pool, config, std::move(settings),
                                                      compat::kKeyUser | compat::kKeyLocalName);
}

}  // namespace

struct passdb_module_interface vstore_passdb_vmailmgr = {
    kDriver,
    compat::passdb_preinit<vmailmgr_passdb_create, kDriver>,
    glue::init_passdb<vstore::VmailmgrStore, kDriver>,
    glue::deinit_passdb<vstore::VmailmgrStore>,
    vmailmgr_verify_plain,
    vmailmgr_lookup_credentials,
    nullptr,
};
