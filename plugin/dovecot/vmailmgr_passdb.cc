// passdb driver "vmailmgr": thin glue between Dovecot and vstore::VmailmgrStore.
#include <ctime>
#include <memory>

#include "drivers.h"
#include "glue.h"
#include "password_verify.h"
#include "vmailmgr_store.h"

namespace {

const char kDriver[] = "vmailmgr";

struct vmailmgr_passdb_module {
    struct passdb_module module;
    std::shared_ptr<vstore::VmailmgrStore> *store;
    glue::VerifyThreads *threads;
};

vmailmgr_passdb_module &module_of(struct auth_request *r)
{
    return *reinterpret_cast<vmailmgr_passdb_module *>(r->passdb->passdb);
}

vstore::VmailmgrStore &store_of(struct auth_request *r) { return **module_of(r).store; }

// The store's verdict for this request; logs the lookup's notes and a refusal's reason.
vstore::LoginDecision decide(struct auth_request *r)
{
    vstore::VmailmgrAccount account;
    const std::string remote_ip = compat::request_remote_ip(r);
    vstore::LoginDecision d = store_of(r).decide(
        {compat::request_user(r), compat::request_service(r), remote_ip, compat::request_local_name(r)},
        time(nullptr), &account);
    compat::wipe(account.record.password);
    glue::log_notes(r, kDriver, d.notes);
    glue::log_outcome(r, kDriver, d.before);
    return d;
}

void vmailmgr_verify_plain(struct auth_request *r, const char *password, verify_plain_callback_t *callback)
{
    glue::PasswordCheck check;
    enum passdb_result result = glue::guarded(r, PASSDB_RESULT_INTERNAL_FAILURE, [&] {
        vstore::LoginDecision d = decide(r);
        if (!d.before.is_ok())
            return glue::to_passdb_result(d.before.verdict);
        if (glue::refuse_empty_password(r, kDriver, password, &d.password))
            return PASSDB_RESULT_PASSWORD_MISMATCH;
        check.scheme = std::move(d.password.scheme);
        check.hash = std::move(d.password.hash);
        check.reply_hash = d.password.reply_hash;
        check.after_match = [r, user = d.user] {
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
    vstore::PasswordToCheck credentials;
    enum passdb_result result = glue::guarded(r, PASSDB_RESULT_INTERNAL_FAILURE, [&] {
        vstore::LoginDecision d = decide(r);
        if (!d.before.is_ok())
            return glue::to_passdb_result(d.before.verdict);
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

struct passdb_module *vmailmgr_passdb_create(pool_t pool, const compat::DriverConfig &config)
{
    auto settings = glue::parse_settings<vstore::VmailmgrSettings>(config);
    settings.first_valid_uid = compat::first_valid_uid();
    auto *m = p_new(pool, struct vmailmgr_passdb_module, 1);
    m->store = new std::shared_ptr<vstore::VmailmgrStore>(glue::shared_store<vstore::VmailmgrStore>(config, settings));
    m->threads = new glue::VerifyThreads(settings.verify_threads);
    compat::set_blocking(&m->module, settings.blocking);
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
