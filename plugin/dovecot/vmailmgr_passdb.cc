// passdb driver "vmailmgr": thin glue between Dovecot and vstore::VmailmgrStore.
#include <ctime>

#include "drivers.h"
#include "glue.h"
#include "password_verify.h"
#include "vmailmgr_store.h"

namespace {

const char kDriver[] = "vmailmgr";

struct vmailmgr_passdb_module {
    struct passdb_module module;
    vstore::VmailmgrStore *store;
    glue::VerifyThreads *threads;
};

vmailmgr_passdb_module &module_of(struct auth_request *r)
{
    return *reinterpret_cast<vmailmgr_passdb_module *>(r->passdb->passdb);
}

vstore::VmailmgrStore &store_of(struct auth_request *r) { return *module_of(r).store; }

// Looks the login up and applies checkvpw's account checks; logs every refusal.
vstore::Outcome lookup_allowed(struct auth_request *r, vstore::VmailmgrAccount *account,
                               vstore::vmailmgr::PasswordCheck *check)
{
    vstore::VmailmgrStore &store = store_of(r);
    vstore::Outcome o = store.lookup(compat::request_user(r), compat::request_local_name(r), account);
    for (const std::string &note : account->notes)
        compat::log_debug(r, std::string(kDriver) + ": " + note);
    if (o.is_ok())
        o = store.check_login_allowed(*account, time(nullptr));
    if (o.is_ok()) {
        *check = vstore::vmailmgr::classify_password(account->record.password);
        if (check->never)
            o = vstore::Outcome::fail(vstore::Verdict::Disabled,
                                      "the entry has no usable password ('*' or empty)");
    }
    glue::log_outcome(r, kDriver, o);
    return o;
}

void vmailmgr_verify_plain(struct auth_request *r, const char *password, verify_plain_callback_t *callback)
{
    glue::PasswordCheck check;
    enum passdb_result result = glue::guarded(r, PASSDB_RESULT_INTERNAL_FAILURE, [&] {
        vstore::VmailmgrAccount account;
        vstore::vmailmgr::PasswordCheck stored;
        vstore::Outcome o = lookup_allowed(r, &account, &stored);
        compat::wipe(account.record.password);
        if (!o.is_ok())
            return glue::to_passdb_result(o.verdict);
        if (*password == '\0') {
            // checkvpw refuses an empty password whatever is stored
            compat::log_info(r, std::string(kDriver) + ": login refused: empty password");
            return PASSDB_RESULT_PASSWORD_MISMATCH;
        }
        check.scheme = std::move(stored.scheme);
        check.hash = std::move(stored.hash);
        check.after_match = [r, user = account.canonical_name()] {
            compat::set_field(r, "user", user);
            return glue::passdb_ok(r);
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

void vmailmgr_lookup_credentials(struct auth_request *r, lookup_credentials_callback_t *callback)
{
    vstore::vmailmgr::PasswordCheck check;
    enum passdb_result result = glue::guarded(r, PASSDB_RESULT_INTERNAL_FAILURE, [&] {
        vstore::VmailmgrAccount account;
        vstore::Outcome o = lookup_allowed(r, &account, &check);
        if (!o.is_ok())
            return glue::to_passdb_result(o.verdict);
        compat::wipe(account.record.password);
        compat::set_field(r, "user", account.canonical_name());
        return glue::passdb_ok(r);
    });
    if (result != PASSDB_RESULT_OK) {
        callback(result, nullptr, 0, r);
        return;
    }
    // $0$ plaintext serves every challenge-response mechanism as PLAIN.
    compat::handle_credentials(result, check.hash, check.scheme, callback, r);
    compat::wipe(check.hash);
}

struct passdb_module *vmailmgr_passdb_create(pool_t pool, const char *args)
{
    auto settings = glue::parse_settings<vstore::VmailmgrSettings>(args);
    settings.first_valid_uid = compat::first_valid_uid();
    auto *m = p_new(pool, struct vmailmgr_passdb_module, 1);
    m->store = new vstore::VmailmgrStore(std::move(settings));
    m->threads = new glue::VerifyThreads(m->store->settings().verify_threads);
    compat::set_blocking(&m->module, m->store->settings().blocking);
    // A login without a domain resolves through the connection's local name.
    m->module.default_cache_key = compat::cache_key(pool, compat::kKeyUser | compat::kKeyLocalName);
    m->module.default_pass_scheme = "CRYPT";
    return &m->module;
}

void vmailmgr_passdb_deinit(struct passdb_module *module)
{
    auto *m = reinterpret_cast<vmailmgr_passdb_module *>(module);
    delete m->threads;
    m->threads = nullptr;
    delete m->store;
    m->store = nullptr;
}

}  // namespace

struct passdb_module_interface vstore_passdb_vmailmgr = {
    kDriver,
    compat::passdb_preinit<vmailmgr_passdb_create, kDriver>,
    nullptr,
    vmailmgr_passdb_deinit,
    vmailmgr_verify_plain,
    vmailmgr_lookup_credentials,
    nullptr,
};
