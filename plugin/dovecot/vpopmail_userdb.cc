// userdb driver "vpopmail": uid/gid of the domain, home, maildir and quota of the user.
#include "drivers.h"
#include "db_callbacks.h"
#include "db_module.h"
#include "vpopmail_store.h"

namespace {

const char kDriver[] = "vpopmail";

vstore::VpopmailStore &store_of(struct auth_request *r) { return glue::userdb_store<vstore::VpopmailStore>(r); }

void vpopmail_userdb_lookup(struct auth_request *r, userdb_callback_t *callback)
{
    glue::userdb_lookup(r, kDriver, callback,
                        [r](vstore::UserdbView *view) { return store_of(r).userdb(compat::request_user(r), view); });
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
                              [&] { return store_of(r).iterate().release(); });
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
    return glue::create_userdb<vstore::VpopmailStore>(pool, config,
                                                      glue::parse_settings<vstore::VpopmailSettings>(config),
                                                      compat::kKeyUser);
}

}  // namespace

struct userdb_module_interface vstore_userdb_vpopmail = {
    kDriver,
    compat::userdb_preinit<vpopmail_userdb_create, kDriver>,
    nullptr,
    glue::deinit_userdb<vstore::VpopmailStore>,
    vpopmail_userdb_lookup,
    vpopmail_iterate_init,
    vpopmail_iterate_next,
    vpopmail_iterate_deinit,
};
