// passdb driver "vpopmail": thin glue between Dovecot and vstore::VpopmailStore.
#include <cstring>
#include <ctime>

#include "drivers.h"
#include "glue.h"
#include "password_verify.h"
#include "vpopmail_store.h"

namespace {

const char kDriver[] = "vpopmail";

struct vpopmail_passdb_module {
    struct passdb_module module;
    vstore::VpopmailStore *store;
    glue::VerifyThreads *threads;
};

vpopmail_passdb_module &module_of(struct auth_request *r)
{
    return *reinterpret_cast<vpopmail_passdb_module *>(r->passdb->passdb);
}

vstore::VpopmailStore &store_of(struct auth_request *r) { return *module_of(r).store; }

// Looks the login up and checks the service; logs every refusal with its reason.
vstore::Outcome lookup_allowed(struct auth_request *r, vstore::VpopmailAccount *account)
{
    vstore::VpopmailStore &store = store_of(r);
    vstore::Outcome o = store.lookup(compat::request_user(r), account);
    for (const std::string &note : account->notes)
        compat::log_debug(r, std::string(kDriver) + ": " + note);
    if (o.is_ok() && account->pw.passwd.empty() && account->pw.clear.empty())
        o = vstore::Outcome::fail(vstore::Verdict::Disabled, "the account has no password");
    glue::log_outcome(r, kDriver, o);
    return o;
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

// Once the password matched: the service flags (checked after the password, as vchkpw does,
// so that a wrong password never learns whether the account is restricted), the user field
// and lastauth.
enum passdb_result after_password_match(struct auth_request *r, const vstore::VpopmailAccount &account)
{
    vstore::Outcome o =
        store_of(r).check_service(account, compat::request_service(r), compat::request_remote_ip(r));
    glue::log_outcome(r, kDriver, o);
    if (!o.is_ok())
        return glue::to_passdb_result(o.verdict);
    compat::set_field(r, "user", account.canonical_name());
    write_lastauth(r, account);
    return glue::passdb_ok(r);
}

void vpopmail_verify_plain(struct auth_request *r, const char *password,
                           verify_plain_callback_t *callback)
{
    glue::PasswordCheck check;
    enum passdb_result result = glue::guarded(r, PASSDB_RESULT_INTERNAL_FAILURE, [&] {
        vstore::VpopmailAccount account;
        vstore::Outcome o = lookup_allowed(r, &account);
        if (!o.is_ok())
            return glue::to_passdb_result(o.verdict);

        // vchkpw verifies PLAIN logins against the hash only; clear_password=prefer checks the
        // clear field first, as Dovecot's old vpopmail driver did.
        const bool use_clear = store_of(r).settings().clear_prefer && !account.pw.clear.empty();
        vstore::vpopmail::StoredHash stored =
            use_clear ? vstore::vpopmail::StoredHash{"PLAIN", account.pw.clear}
                      : vstore::vpopmail::split_scheme(account.pw.passwd);
        compat::wipe(account.pw.clear);
        if (stored.hash.empty()) {
            compat::log_info(r, std::string(kDriver) + ": login refused: the account has no password hash");
            return PASSDB_RESULT_USER_DISABLED;
        }
        check.reply_hash = !use_clear;
        check.scheme = std::move(stored.scheme);
        check.hash = std::move(stored.hash);
        check.after_match = [r, account = std::move(account)] { return after_password_match(r, account); };
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
    std::string password, scheme;
    enum passdb_result result = glue::guarded(r, PASSDB_RESULT_INTERNAL_FAILURE, [&] {
        vstore::VpopmailAccount account;
        vstore::Outcome o = lookup_allowed(r, &account);
        if (o.is_ok())
            o = store_of(r).check_service(account, compat::request_service(r),
                                          compat::request_remote_ip(r));
        glue::log_outcome(r, kDriver, o);
        if (!o.is_ok())
            return glue::to_passdb_result(o.verdict);
        // The clear field serves challenge-response mechanisms (CRAM-MD5, APOP, DIGEST-MD5),
        // as it does for vchkpw's authcram/APOP; without one, the hash is all there is.
        if (!account.pw.clear.empty()) {
            password = account.pw.clear;
            scheme = "PLAIN";
        } else {
            vstore::vpopmail::StoredHash stored = vstore::vpopmail::split_scheme(account.pw.passwd);
            password = stored.hash;
            scheme = stored.scheme;
        }
        compat::wipe(account.pw.clear);
        compat::set_field(r, "user", account.canonical_name());
        return glue::passdb_ok(r);
    });
    if (result != PASSDB_RESULT_OK) {
        callback(result, nullptr, 0, r);
        return;
    }
    compat::handle_credentials(result, password, scheme, callback, r);
    compat::wipe(password);
}

struct passdb_module *vpopmail_passdb_create(pool_t pool, const char *args)
{
    auto settings = glue::parse_settings<vstore::VpopmailSettings>(args);
    // The verdict depends on the service and, with webmail_ips, the client address.
    const unsigned cache_key = compat::kKeyUser | compat::kKeyService |
                               (settings.webmail_ips.empty() ? 0u : unsigned{compat::kKeyRemoteIp});
    auto *m = p_new(pool, struct vpopmail_passdb_module, 1);
    m->store = new vstore::VpopmailStore(std::move(settings));
    m->threads = new glue::VerifyThreads(m->store->settings().verify_threads);
    compat::set_blocking(&m->module, m->store->settings().blocking);
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
