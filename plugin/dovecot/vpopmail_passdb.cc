// passdb driver "vpopmail": thin glue between Dovecot and vstore::VpopmailStore.
#include <cstring>
#include <ctime>
#include <memory>

#include "drivers.h"
#include "db_callbacks.h"
#include "db_module.h"
#include "vpopmail_source.h"

namespace {

const char kDriver[] = "vpopmail";

using glue::VpopmailSource;

VpopmailSource &source_of(struct auth_request *r) { return **glue::passdb_of<VpopmailSource>(r).store; }

// A vpopmail login: its source answers at once (the cdb store) or once the database answered.
// The account stays with the login for lastauth (its user, domain and directory); its stored
// passwords are wiped once decided: the decision holds what is checked.
class VpopmailLogin final : public glue::PassdbLogin {
public:
    using PassdbLoginT::PassdbLoginT;

private:
    void ask() override
    {
        source_of(request()).find(compat::request_user(request()), &account_,
                                  [this](const vstore::Outcome &found, vstore::VpopmailAccount &account) {
                                      decide([&] { return decision_of(found, account); });
                                  });
    }

    glue::Decided decision_of(const vstore::Outcome &found, vstore::VpopmailAccount &account)
    {
        struct auth_request *r = request();
        std::string remote_ip;
        glue::Decided d;
        if (!glue::guarded(r, false, [&] {
                d.decision = source_of(r).store().decide_found(found, glue::login_request(r, &remote_ip), use(),
                                                                &account);
                return true;
            }))
            d.decision.before = vstore::Outcome::fail(vstore::Verdict::StoreFault, "internal error (logged)");
        compat::wipe(account.pw.clear);
        compat::wipe(account.pw.passwd);
        d.owner = account.domain.real_domain;
        return d;
    }

    void on_login() override { source_of(request()).write_lastauth(request(), account_); }

    vstore::VpopmailAccount account_;
};

void vpopmail_verify_plain(struct auth_request *r, const char *password, verify_plain_callback_t *callback)
{
    auto &m = glue::passdb_of<VpopmailSource>(r);
    glue::PassdbLogin::verify_plain<VpopmailLogin>(r, kDriver, callback, password,
                                                   (*m.store)->settings().access.hash_limits, m.threads);
}

void vpopmail_lookup_credentials(struct auth_request *r, lookup_credentials_callback_t *callback)
{
    glue::PassdbLogin::lookup_credentials<VpopmailLogin>(r, kDriver, callback);
}

struct passdb_module *vpopmail_passdb_create(pool_t pool, const compat::DriverConfig &config)
{
    auto settings = glue::parse_settings<vstore::VpopmailSettings>(config);
    // The verdict depends on the service and, with webmail_ips, the client address.
    const unsigned cache_key = compat::kKeyUser | compat::kKeyService |
                               (settings.webmail_ips.empty() ? 0u : unsigned{compat::kKeyRemoteIp});
    return glue::create_passdb<VpopmailSource>(pool, config, std::move(settings), cache_key);
}

}  // namespace

struct passdb_module_interface vstore_passdb_vpopmail = compat::passdb_interface<vpopmail_passdb_create, kDriver>(
    glue::init_passdb<glue::VpopmailSource, kDriver>, glue::deinit_passdb<glue::VpopmailSource>,
    vpopmail_verify_plain, vpopmail_lookup_credentials);
