// passdb driver "vpopmail": thin glue between Dovecot and vstore::VpopmailStore.
#include <cstring>
#include <ctime>
#include <memory>

#include "drivers.h"
#include "glue.h"
#include "password_verify.h"
#include "vpopmail_store.h"

namespace {

const char kDriver[] = "vpopmail";

struct vpopmail_passdb_module {
    struct passdb_module module;
    std::shared_ptr<vstore::VpopmailStore> *store;
    glue::VerifyThreads *threads;
};

vpopmail_passdb_module &module_of(struct auth_request *r)
{
    return *reinterpret_cast<vpopmail_passdb_module *>(r->passdb->passdb);
}

vstore::VpopmailStore &store_of(struct auth_request *r) { return **module_of(r).store; }

// The store's verdict for this request; logs the lookup's notes and a refusal's reason.
vstore::LoginDecision decide(struct auth_request *r, vstore::PasswordUse use, vstore::VpopmailAccount *account)
{
    const std::string remote_ip = compat::request_remote_ip(r);
    vstore::LoginDecision d = store_of(r).decide(
        {compat::request_user(r), compat::request_service(r), remote_ip, compat::request_local_name(r)}, use,
        account);
    glue::log_notes(r, kDriver, d.notes);
    glue::log_outcome(r, kDriver, d.before);
    return d;
}

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

// Once the password matched: the service check the store decided, the user field, lastauth.
enum passdb_result after_password_match(struct auth_request *r, const vstore::LoginDecision &d,
                                        const vstore::VpopmailAccount &account)
{
    glue::log_outcome(r, kDriver, d.after_match);
    if (!d.after_match.is_ok())
        return glue::to_passdb_result(d.after_match.verdict);
    compat::set_field(r, "user", d.user);
    write_lastauth(r, account);
    return glue::passdb_ok(r);
}

void vpopmail_verify_plain(struct auth_request *r, const char *password, verify_plain_callback_t *callback)
{
    glue::PasswordCheck check;
    enum passdb_result result = glue::guarded(r, PASSDB_RESULT_INTERNAL_FAILURE, [&] {
        vstore::VpopmailAccount account;
        vstore::LoginDecision d = decide(r, vstore::PasswordUse::Plain, &account);
        compat::wipe(account.pw.clear);
        if (!d.before.is_ok())
            return glue::to_passdb_result(d.before.verdict);
        if (glue::refuse_empty_password(r, kDriver, password, &d.password))
            return PASSDB_RESULT_PASSWORD_MISMATCH;
        check.scheme = std::move(d.password.scheme);
        check.hash = std::move(d.password.hash);
        check.reply_hash = d.password.reply_hash;
        check.after_match = [r, d = std::move(d), account = std::move(account)] {
            return after_password_match(r, d, account);
        };
        return PASSDB_RESULT_OK;
    });
    if (result != PASSDB_RESULT_OK) {
        callback(result, r);
        return;
    }
    glue::verify_password_then(r, kDriver, store_of(r).settings().access.hash_limits, module_of(r).threads,
                               std::move(check), password, callback);
}

void vpopmail_lookup_credentials(struct auth_request *r, lookup_credentials_callback_t *callback)
{
    vstore::PasswordToCheck credentials;
    enum passdb_result result = glue::guarded(r, PASSDB_RESULT_INTERNAL_FAILURE, [&] {
        vstore::VpopmailAccount account;
        vstore::LoginDecision d = decide(r, vstore::PasswordUse::Credentials, &account);
        compat::wipe(account.pw.clear);
        // Dovecot checks the response itself: the service check cannot wait for a match.
        vstore::Outcome o = d.before.is_ok() ? d.after_match : d.before;
        if (d.before.is_ok())
            glue::log_outcome(r, kDriver, o);
        if (!o.is_ok()) {
            compat::wipe(d.password.hash);
            return glue::to_passdb_result(o.verdict);
        }
        credentials = std::move(d.password);
        compat::set_field(r, "user", d.user);
        return glue::passdb_ok(r);
    });
    if (result != PASSDB_RESULT_OK) {
        callback(result, nullptr, 0, r);
        return;
    }
    compat::handle_credentials(result, credentials.hash, credentials.scheme, callback, r);
    compat::wipe(credentials.hash);
}

struct passdb_module *vpopmail_passdb_create(pool_t pool, const compat::DriverConfig &config)
{
    auto settings = glue::parse_settings<vstore::VpopmailSettings>(config);
    // The verdict depends on the service and, with webmail_ips, the client address.
    const unsigned cache_key = compat::kKeyUser | compat::kKeyService |
                               (settings.webmail_ips.empty() ? 0u : unsigned{compat::kKeyRemoteIp});
    auto *m = p_new(pool, struct vpopmail_passdb_module, 1);
    m->store = new std::shared_ptr<vstore::VpopmailStore>(glue::shared_store<vstore::VpopmailStore>(config, settings));
    m->threads = new glue::VerifyThreads(settings.verify_threads);
    compat::set_blocking(&m->module, settings.blocking);
    m->module.default_cache_key = compat::cache_key(pool, cache_key);
    m->module.default_pass_scheme = "CRYPT";
    return &m->module;
}

void vpopmail_passdb_deinit(struct passdb_module *module)
{
    auto *m = reinterpret_cast<vpopmail_passdb_module *>(module);
    delete m->threads;
    m->threads = nullptr;
    delete m->store;
    m->store = nullptr;
}

}  // namespace

struct passdb_module_interface vstore_passdb_vpopmail = {
    kDriver,
    compat::passdb_preinit<vpopmail_passdb_create, kDriver>,
    nullptr,
    vpopmail_passdb_deinit,
    vpopmail_verify_plain,
    vpopmail_lookup_credentials,
    nullptr,
};
