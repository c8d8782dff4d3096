// userdb driver "vmailmgr": uid/gid of the base user, the mailbox as home and maildir, quota.
#include <vector>

#include "drivers.h"
#include "glue.h"
#include "vmailmgr_store.h"

namespace {

const char kDriver[] = "vmailmgr";

struct vmailmgr_userdb_module {
    struct userdb_module module;
    vstore::VmailmgrStore *store;
};

vstore::VmailmgrStore &store_of(struct userdb_module *module)
{
    return *reinterpret_cast<vmailmgr_userdb_module *>(module)->store;
}

void vmailmgr_userdb_lookup(struct auth_request *r, userdb_callback_t *callback)
{
    enum userdb_result result = glue::guarded(r, USERDB_RESULT_INTERNAL_FAILURE, [&] {
        vstore::VmailmgrAccount a;
        vstore::VmailmgrStore &store = store_of(r->userdb->userdb);
        vstore::Outcome o = store.lookup(compat::request_user(r), compat::request_local_name(r), &a);
        for (const std::string &note : a.notes)
            compat::log_debug(r, std::string(kDriver) + ": " + note);
        if (o.is_ok() && !a.record.has_mailbox)
            o = vstore::Outcome::fail(vstore::Verdict::UserUnknown,
                                      "user " + a.virtual_name + " is an alias without a mailbox");
        glue::log_outcome(r, kDriver, o);
        if (!o.is_ok())
            return glue::to_userdb_result(o.verdict);

        using vstore::vmailmgr::number_to_string;
        compat::set_field(r, "user", a.canonical_name());
        compat::set_userdb_field(r, "uid", std::to_string(a.base.uid));
        compat::set_userdb_field(r, "gid", std::to_string(a.base.gid));
        compat::set_userdb_field(r, "home", a.mailbox);
        compat::set_userdb_maildir(r, a.mailbox);
        compat::set_userdb_quota(r, vstore::vmailmgr::limit(a.record.hardquota),
                                 vstore::vmailmgr::limit(a.record.msgcount));
        compat::set_userdb_field(r, "vmailmgr_base_user", a.base.name);
        compat::set_userdb_field(r, "vmailmgr_personal", a.record.personal);
        compat::set_userdb_field(r, "vmailmgr_forwards", std::to_string(a.record.forwards.size()));
        compat::set_userdb_field(r, "vmailmgr_ctime", std::to_string(a.record.ctime));
        compat::set_userdb_field(r, "vmailmgr_expiry", number_to_string(a.record.expiry));
        compat::set_userdb_field(r, "vmailmgr_softquota", number_to_string(a.record.softquota));
        compat::set_userdb_field(r, "vmailmgr_msgsize", number_to_string(a.record.msgsize));
        compat::set_userdb_field(r, "vmailmgr_mailbox_enabled", a.record.mailbox_enabled ? "1" : "0");
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

struct userdb_module *vmailmgr_userdb_create(pool_t pool, const char *args)
{
    auto settings = glue::parse_settings<vstore::VmailmgrSettings>(args);
    settings.first_valid_uid = compat::first_valid_uid();
    auto *m = p_new(pool, struct vmailmgr_userdb_module, 1);
    m->store = new vstore::VmailmgrStore(std::move(settings));
    compat::set_blocking(&m->module, m->store->settings().blocking);
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
