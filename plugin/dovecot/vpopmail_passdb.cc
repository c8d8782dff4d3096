// passdb driver "vpopmail": thin glue between Dovecot and vstore::VpopmailStore.
#include <cstring>
#include <ctime>
#include <memory>

#include "drivers.h"
#include "db_callbacks.h"
#include "db_module.h"
#include "vpopmail_store.h"

namespace {

const char kDriver[] = "vpopmail";

vstore::VpopmailStore &store_of(struct auth_request *r) { return **glue::passdb_of<vstore::VpopmailStore>(r).store; }

// What vchkpw does after a login, so that vdeloldusers and qmailadmin keep working. Never
// fails the login: a failure is only logged.
void write_lastauth(struct auth_request *r, const vstore::VpopmailAccount &account)
{
    const vstore::VpopmailStore &store = store_of(r);
    if (!store.settings().lastauth || strcmp(compat::request_service(r), "doveadm") == 0)
        return;
    bool written = false;
    vstore::Outcome o = store.touch_lastauth(account, compat::request_remote_ip(r), time(nullptr), &written);
    if (!o.is_ok())
        compat::log_warning(r, std::string(kDriver) + ": cannot update lastauth: " + o.reason);
    else if (written)
        compat::log_debug(r, std::string(kDriver) + ": updated " + account.pw.dir + "/lastauth");
}

// The store's decision; the account's clear password is wiped, the rest kept for lastauth.
vstore::LoginDecision decide(struct auth_request *r, vstore::PasswordUse use, vstore::VpopmailAccount *account)
{
    std::string remote_ip;
    vstore::LoginDecision d = store_of(r).decide(glue::login_request(r, &remote_ip), use, account);
    compat::wipe(account->pw.clear);
    return d;
}

void vpopmail_verify_plain(struct auth_request *r, const char *password, verify_plain_callback_t *callback)
{
    glue::verify_plain(r, kDriver, password, callback, store_of(r).settings().access.hash_limits,
                       glue::passdb_of<vstore::VpopmailStore>(r).threads, [r] {
                           auto account = std::make_shared<vstore::VpopmailAccount>();
                           vstore::LoginDecision d = decide(r, vstore::PasswordUse::Plain, account.get());
                           return glue::Decided{std::move(d), [r, account] { write_lastauth(r, *account); }};
                       });
}

void vpopmail_lookup_credentials(struct auth_request *r, lookup_credentials_callback_t *callback)
{
    glue::lookup_credentials(r, kDriver, callback, [r] {
        vstore::VpopmailAccount account;
        return decide(r, vstore::PasswordUse::Credentials, &account);
    });
}

struct passdb_module *vpopmail_passdb_create(pool_t pool, const compat::DriverConfig &config)
{
    auto settings = glue::parse_settings<vstore::VpopmailSettings>(config);
    // The verdict depends on the service and, with webmail_ips, the client address.
    const unsigned cache_key = compat::kKeyUser | compat::kKeyService |
                               (settings.webmail_ips.empty() ? 0u : unsigned{compat::kKeyRemoteIp});
    return glue::create_passdb<vstore::VpopmailStore>(pool, config, std::move(settings), cache_key);
}

}  // namespace

struct passdb_module_interface vstore_passdb_vpopmail = {
    kDriver,
    compat::passdb_preinit<vpopmail_passdb_create, kDriver>,
    nullptr,
    glue::deinit_passdb<vstore::VpopmailStore>,
    vpopmail_verify_plain,
    vpopmail_lookup_credentials,
    nullptr,
};
