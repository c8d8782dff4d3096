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

using Next = std::function<void(vstore::LoginDecision, std::shared_ptr<vstore::VpopmailAccount>)>;

// Finds the account (at once from the cdb store, or when the database answered), then hands
// the store's decision to next; the account's clear password is wiped, the rest kept for
// lastauth. false when it failed before asking (next is not called then).
bool decide(struct auth_request *r, vstore::PasswordUse use, Next next)
{
    compat::request_ref(r);
    const bool asked = glue::guarded(r, false, [&] {
        source_of(r).find(compat::request_user(r), [r, use, next](const vstore::Outcome &found,
                                                                  vstore::VpopmailAccount &account) {
            auto a = std::make_shared<vstore::VpopmailAccount>(std::move(account));
            std::string remote_ip;
            vstore::LoginDecision d;
            if (!glue::guarded(r, false, [&] {
                    d = source_of(r).store().decide_found(found, glue::login_request(r, &remote_ip), use, a.get());
                    return true;
                }))
                d.before = vstore::Outcome::fail(vstore::Verdict::StoreFault, "internal error (logged)");
            compat::wipe(a->pw.clear);
            next(std::move(d), a);
            compat::request_unref(r);
        });
        return true;
    });
    if (!asked)
        compat::request_unref(r);
    return asked;
}

void vpopmail_verify_plain(struct auth_request *r, const char *password, verify_plain_callback_t *callback)
{
    // the database may answer after this returns: the password is kept until then
    auto plain = std::make_shared<std::string>(password);
    const bool asked = decide(r, vstore::PasswordUse::Plain,
                              [r, plain, callback](vstore::LoginDecision d, std::shared_ptr<vstore::VpopmailAccount> a) {
                                  VpopmailSource &source = source_of(r);
                                  glue::Decided decided{std::move(d), [r, a] { source_of(r).write_lastauth(r, *a); },
                                                        a->domain.real_domain};
                                  glue::verify_plain_decided(r, kDriver, plain->c_str(), callback,
                                                             source.settings().access.hash_limits,
                                                             glue::passdb_of<VpopmailSource>(r).threads,
                                                             std::move(decided));
                                  compat::wipe(*plain);
                              });
    if (!asked)
        callback(PASSDB_RESULT_INTERNAL_FAILURE, r);
}

void vpopmail_lookup_credentials(struct auth_request *r, lookup_credentials_callback_t *callback)
{
    const bool asked = decide(r, vstore::PasswordUse::Credentials,
                              [r, callback](vstore::LoginDecision d, std::shared_ptr<vstore::VpopmailAccount>) {
                                  glue::lookup_credentials_decided(r, kDriver, callback, std::move(d));
                              });
    if (!asked)
        callback(PASSDB_RESULT_INTERNAL_FAILURE, nullptr, 0, r);
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

struct passdb_module_interface vstore_passdb_vpopmail = {
    kDriver,
    compat::passdb_preinit<vpopmail_passdb_create, kDriver>,
    glue::init_passdb<glue::VpopmailSource, kDriver>,
    glue::deinit_passdb<glue::VpopmailSource>,
    vpopmail_verify_plain,
    vpopmail_lookup_credentials,
    nullptr,
};
