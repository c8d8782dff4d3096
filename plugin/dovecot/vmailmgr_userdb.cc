// userdb driver "vmailmgr": uid/gid of the base user, the mailbox as home and maildir, quota.
#include <memory>
#include <vector>

#include "drivers.h"
#include "glue.h"
#include "vmailmgr_store.h"

namespace {

const char kDriver[] = "vmailmgr";

struct vmailmgr_userdb_module {
    struct userdb_module module;
    std::shared_ptr<vstore::VmailmgrStore> *store;
};

vstore::VmailmgrStore &store_of(struct userdb_module *module)
{
    return **reinterpret_cast<vmailmgr_userdb_module *>(module)->store;
}

void vmailmgr_userdb_lookup(struct auth_request *r, userdb_callback_t *callback)
{
    enum userdb_result result = glue::guarded(r, USERDB_RESULT_INTERNAL_FAILURE, [&] {
        vstore::UserdbView view;
        vstore::Outcome o =
            store_of(r->userdb->userdb).userdb(compat::request_user(r), compat::request_local_name(r), &view);
        glue::log_notes(r, kDriver, view.notes);
        glue::log_outcome(r, kDriver, o);
        if (!o.is_ok())
            return glue::to_userdb_result(o.verdict);
        for (const std::string &warning : view.warnings)
            compat::log_warning(r, std::string(kDriver) + ": " + warning);
        compat::set_userdb_view(r, view);
        return glue::userdb_ok(r);
    });
    callback(result, r);
}

struct vmailmgr_iterate_context {
    struct userdb_iterate_context ctx;
    std::vector<std::string> *users;
    size_t next;
};

struct userdb_iterate_context *vmailmgr_iterate_init(struct auth_request *r, userdb_iter_callback_t *callback,
                                                     void *context)
{
    auto *ctx = i_new(struct vmailmgr_iterate_context, 1);
    ctx->ctx.auth_request = r;
    ctx->ctx.callback = callback;
    ctx->ctx.context = context;
    ctx->users = glue::guarded(r, (std::vector<std::string> *)nullptr, [&] {
        std::string error;
        auto *users = new std::vector<std::string>(store_of(r->userdb->userdb).list_users(&error));
        if (!error.empty()) {
            compat::log_error(r, std::string(kDriver) + ": user iteration failed: " + error);
            delete users;
            users = nullptr;
        }
        return users;
    });
    if (ctx->users == nullptr)
        ctx->ctx.failed = TRUE;
    return &ctx->ctx;
}

void vmailmgr_iterate_next(struct userdb_iterate_context *_ctx)
{
    auto *ctx = reinterpret_cast<vmailmgr_iterate_context *>(_ctx);
    if (ctx->users == nullptr || ctx->next >= ctx->users->size()) {
        _ctx->callback(nullptr, _ctx->context);
        return;
    }
    _ctx->callback((*ctx->users)[ctx->next++].c_str(), _ctx->context);
}

int vmailmgr_iterate_deinit(struct userdb_iterate_context *_ctx)
{
    auto *ctx = reinterpret_cast<vmailmgr_iterate_context *>(_ctx);
    int ret = _ctx->failed ? -1 : 0;
    delete ctx->users;
    i_free(ctx);
    return ret;
}

struct userdb_module *vmailmgr_userdb_create(pool_t pool, const compat::DriverConfig &config)
{
    auto settings = glue::parse_settings<vstore::VmailmgrSettings>(config);
    settings.first_valid_uid = compat::first_valid_uid();
    auto *m = p_new(pool, struct vmailmgr_userdb_module, 1);
    m->store = new std::shared_ptr<vstore::VmailmgrStore>(glue::shared_store<vstore::VmailmgrStore>(config, settings));
    compat::set_blocking(&m->module, settings.blocking);
    m->module.default_cache_key = compat::cache_key(pool, compat::kKeyUser | compat::kKeyLocalName);
    return &m->module;
}

void vmailmgr_userdb_deinit(struct userdb_module *module)
{
    auto *m = reinterpret_cast<vmailmgr_userdb_module *>(module);
    delete m->store;
    m->store = nullptr;
}

}  // namespace

struct userdb_module_interface vstore_userdb_vmailmgr = {
    kDriver,
    compat::userdb_preinit<vmailmgr_userdb_create, kDriver>,
    nullptr,
    vmailmgr_userdb_deinit,
    vmailmgr_userdb_lookup,
    vmailmgr_iterate_init,
    vmailmgr_iterate_next,
    vmailmgr_iterate_deinit,
};
