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

// A vmailmgr login: its store answers at once. The account (and its stored password) does
// not outlive the decision; the base user who owns it (its passwd.cdb) is the owner.
class VmailmgrLogin final : public glue::PassdbLogin {
public:
    using PassdbLoginT::PassdbLoginT;

private:
    void ask() override
    {
        decide([r = request()] {
            vstore::VmailmgrAccount account;
            std::string remote_ip;
            glue::Decided decided;
            decided.decision = store_of(r).decide(glue::login_request(r, &remote_ip), time(nullptr), &account);
            compat::wipe(account.record.password);
            decided.owner = std::move(account.base.name);
            return decided;
        });
    }
};

void vmailmgr_verify_plain(struct auth_request *r, const char *password, verify_plain_callback_t *callback)
{
    auto &m = glue::passdb_of<vstore::VmailmgrStore>(r);
    glue::PassdbLogin::verify_plain<VmailmgrLogin>(r, kDriver, callback, password,
                                                   (*m.store)->settings().access.hash_limits, m.threads);
}

void vmailmgr_lookup_credentials(struct auth_request *r, lookup_credentials_callback_t *callback)
{
    // "$0$" plaintext serves every challenge-response mechanism as PLAIN.
    glue::PassdbLogin::lookup_credentials<VmailmgrLogin>(r, kDriver, callback);
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

struct passdb_module_interface vstore_passdb_vmailmgr = compat::passdb_interface<vmailmgr_passdb_create, kDriver>(
    glue::init_passdb<vstore::VmailmgrStore, kDriver>, glue::deinit_passdb<vstore::VmailmgrStore>,
    vmailmgr_verify_plain, vmailmgr_lookup_credentials);
