// userdb driver "vmailmgr": uid/gid of the base user, the mailbox as home and maildir, quota.
#include <memory>
#include <vector>

#include "drivers.h"
#include "db_callbacks.h"
#include "db_module.h"
#include "vmailmgr_store.h"

namespace {

const char kDriver[] = "vmailmgr";

vstore::VmailmgrStore &store_of(struct auth_request *r) { return glue::userdb_store<vstore::VmailmgrStore>(r); }

void vmailmgr_userdb_lookup(struct auth_request *r, userdb_callback_t *callback)
{
    glue::userdb_lookup(r, kDriver, callback, [r](vstore::UserdbView *view) {
        return store_of(r).userdb(compat::request_user(r), compat::request_local_name(r), view);
    });
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
        std::vector<vstore::VmailmgrUnlisted> unlisted;
        auto *users = new std::vector<std::string>(store_of(r).list_users(&error, &unlisted));
        // An account no login can reach is not listed (a mass operation would touch another
        // mailbox under its name); the postmaster should know it is there.
        for (const vstore::VmailmgrUnlisted &u : unlisted)
            compat::log_warning(r, std::string(kDriver) + ": not listed: " + u.virtual_name + " of base user " +
                                       u.base_user + ": " + u.reason);
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
        if (ctx->users != nullptr && ctx->users->empty() && !_ctx->failed)
            compat::log_warning(_ctx->auth_request,
                                std::string(kDriver) + ": user iteration found no user: check qmail_dir= and "
                                                       "config_dir= (control/virtualdomains names the base users)");
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
    return glue::create_userdb<vstore::VmailmgrStore>(pool, config, std::move(settings),
                                                      compat::kKeyUser | compat::kKeyLocalName);
}

}  // namespace

struct userdb_module_interface vstore_userdb_vmailmgr = compat::userdb_interface<vmailmgr_userdb_create, kDriver>(
    glue::init_userdb<vstore::VmailmgrStore, kDriver>, glue::deinit_userdb<vstore::VmailmgrStore>,
    vmailmgr_userdb_lookup, vmailmgr_iterate_init, vmailmgr_iterate_next, vmailmgr_iterate_deinit);
