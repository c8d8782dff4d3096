// userdb driver "vpopmail": uid/gid of the domain, home, maildir and quota of the user.
#include "drivers.h"
#include "glue.h"
#include "vpopmail_store.h"

namespace {

const char kDriver[] = "vpopmail";

struct vpopmail_userdb_module {
    struct userdb_module module;
    std::shared_ptr<vstore::VpopmailStore> *store;
};

vstore::VpopmailStore &store_of(struct userdb_module *module)
{
    return **reinterpret_cast<vpopmail_userdb_module *>(module)->store;
}

void vpopmail_userdb_lookup(struct auth_request *r, userdb_callback_t *callback)
{
    enum userdb_result result = glue::guarded(r, USERDB_RESULT_INTERNAL_FAILURE, [&] {
        vstore::UserdbView view;
        vstore::Outcome o = store_of(r->userdb->userdb).userdb(compat::request_user(r), &view);
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

struct vpopmail_iterate_context {
    struct userdb_iterate_context ctx;
    vstore::VpopmailStore::Iterator *iter;
};

struct userdb_iterate_context *vpopmail_iterate_init(struct auth_request *r,
                                                     userdb_iter_callback_t *callback,
                                                     void *context)
{
    auto *ctx = i_new(struct vpopmail_iterate_context, 1);
    ctx->ctx.auth_request = r;
    ctx->ctx.callback = callback;
    ctx->ctx.context = context;
    ctx->iter = glue::guarded(r, (vstore::VpopmailStore::Iterator *)nullptr,
                              [&] { return store_of(r->userdb->userdb).iterate().release(); });
    if (ctx->iter == nullptr)
        ctx->ctx.failed = TRUE;
    return &ctx->ctx;
}

void vpopmail_iterate_next(struct userdb_iterate_context *_ctx)
{
    auto *ctx = reinterpret_cast<vpopmail_iterate_context *>(_ctx);
    std::string name;
    bool have = false;
    if (ctx->iter != nullptr) {
        have = glue::guarded(_ctx->auth_request, false, [&] {
            std::string error;
            switch (ctx->iter->next(&name, &error)) {
            case vstore::VpopmailStore::Iterator::Step::User:
                return true;
            case vstore::VpopmailStore::Iterator::Step::End:
                return false;
            case vstore::VpopmailStore::Iterator::Step::Fault:
                compat::log_error(_ctx->auth_request,
                                  std::string(kDriver) + ": user iteration failed: " + error);
                _ctx->failed = TRUE;
                return false;
            }
            return false;
        });
    }
    _ctx->callback(have ? name.c_str() : nullptr, _ctx->context);
}

int vpopmail_iterate_deinit(struct userdb_iterate_context *_ctx)
{
    auto *ctx = reinterpret_cast<vpopmail_iterate_context *>(_ctx);
    int ret = _ctx->failed ? -1 : 0;
    delete ctx->iter;
    i_free(ctx);
    return ret;
}

struct userdb_module *vpopmail_userdb_create(pool_t pool, const compat::DriverConfig &config)
{
    auto settings = glue::parse_settings<vstore::VpopmailSettings>(config);
    auto *m = p_new(pool, struct vpopmail_userdb_module, 1);
    m->store = new std::shared_ptr<vstore::VpopmailStore>(glue::shared_store<vstore::VpopmailStore>(config, settings));
    compat::set_blocking(&m->module, settings.blocking);
    m->module.default_cache_key = compat::cache_key(pool, compat::kKeyUser);
    return &m->module;
}

void vpopmail_userdb_deinit(struct userdb_module *module)
{
    auto *m = reinterpret_cast<vpopmail_userdb_module *>(module);
    delete m->store;
    m->store = nullptr;
}

}  // namespace

struct userdb_module_interface vstore_userdb_vpopmail = {
    kDriver,
    compat::userdb_preinit<vpopmail_userdb_create, kDriver>,
    nullptr,
    vpopmail_userdb_deinit,
    vpopmail_userdb_lookup,
    vpopmail_iterate_init,
    vpopmail_iterate_next,
    vpopmail_iterate_deinit,
};
