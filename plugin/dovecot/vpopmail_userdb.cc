// userdb driver "vpopmail": uid/gid of the domain, home, maildir and quota of the user.
#include <memory>

#include "drivers.h"
#include "db_callbacks.h"
#include "db_module.h"
#include "vpopmail_source.h"

namespace {

const char kDriver[] = "vpopmail";

using glue::VpopmailSource;

VpopmailSource &source_of(struct auth_request *r) { return glue::userdb_store<VpopmailSource>(r); }

// One userdb lookup: the account the source fills (at once, or once the database answered)
// and the request's one reference, from the lookup to the answer.
struct UserdbLookup {
    UserdbLookup(struct auth_request *r, userdb_callback_t *callback) : r(r), callback(callback)
    {
        compat::request_ref(r);
    }
    ~UserdbLookup()
    {
        compat::wipe(account.pw.clear);
        compat::wipe(account.pw.passwd);
        compat::request_unref(r);
    }
    UserdbLookup(const UserdbLookup &) = delete;
    UserdbLookup &operator=(const UserdbLookup &) = delete;

    struct auth_request *const r;
    userdb_callback_t *const callback;
    vstore::VpopmailAccount account;
};

void vpopmail_userdb_lookup(struct auth_request *r, userdb_callback_t *callback)
{
    auto *lookup = glue::guarded(r, static_cast<UserdbLookup *>(nullptr), [&] { return new UserdbLookup(r, callback); });
    const bool asked = lookup != nullptr && glue::guarded(r, false, [&] {
        source_of(r).find(compat::request_user(r), &lookup->account,
                          [lookup](const vstore::Outcome &found, vstore::VpopmailAccount &account) {
                              vstore::UserdbView view;
                              vstore::Outcome o = glue::guarded(
                                  lookup->r, vstore::Outcome::fail(vstore::Verdict::StoreFault, "internal error (logged)"),
                                  [&] { return vstore::VpopmailStore::userdb_found(found, account, &view); });
                              compat::wipe(account.pw.clear);
                              compat::wipe(account.pw.passwd);
                              glue::userdb_answer(lookup->r, kDriver, lookup->callback, o, view);
                              delete lookup;
                          });
        return true;
    });
    if (!asked) {
        callback(USERDB_RESULT_INTERNAL_FAILURE, r);
        delete lookup;  // the request's reference, after the answer
    }
}

// A listing: from the cdb store user by user, or from the database all at once (the names
// may arrive after the first iterate_next, which then waits for them).
struct vpopmail_iterate_context {
    struct userdb_iterate_context ctx;
    vstore::VpopmailStore::Iterator *iter;
    std::vector<std::string> *names;  // backend=mysql
    std::shared_ptr<bool> *alive;     // cleared at deinit: a late listing finds nobody to tell
    size_t next, count;  // count: names given (a store that lists none is worth a Warning)
    bool listed, waiting;
};

void warn_if_empty(struct userdb_iterate_context *ctx, size_t count)
{
    if (count == 0 && !ctx->failed)
        compat::log_warning(ctx->auth_request, std::string(kDriver) +
                                                   ": user iteration found no user: check qmail_dir= and "
                                                   "vpopmail_dir= (users/cdb names the domains)");
}

void deliver_listed(vpopmail_iterate_context *ctx)
{
    const bool have = !ctx->ctx.failed && ctx->next < ctx->names->size();
    if (!have && ctx->next == 0)
        warn_if_empty(&ctx->ctx, ctx->names->size());
    ctx->ctx.callback(have ? (*ctx->names)[ctx->next++].c_str() : nullptr, ctx->ctx.context);
}

struct userdb_iterate_context *vpopmail_iterate_init(struct auth_request *r, userdb_iter_callback_t *callback,
                                                     void *context)
{
    auto *ctx = i_new(struct vpopmail_iterate_context, 1);
    ctx->ctx.auth_request = r;
    ctx->ctx.callback = callback;
    ctx->ctx.context = context;
    VpopmailSource &source = source_of(r);
    if (source.settings().backend == vstore::VpopmailSettings::Backend::Mysql) {
        ctx->names = new std::vector<std::string>();
        ctx->alive = new std::shared_ptr<bool>(std::make_shared<bool>(true));
        const bool asked = glue::guarded(r, false, [&] {
            source.list([ctx, alive = *ctx->alive](const vstore::Outcome &o, std::vector<std::string> names) {
                if (!*alive)
                    return;
                if (!o.is_ok()) {
                    compat::log_error(ctx->ctx.auth_request,
                                      std::string(kDriver) + ": user iteration failed: " + o.reason);
                    ctx->ctx.failed = TRUE;
                }
                *ctx->names = std::move(names);
                ctx->listed = true;
                if (ctx->waiting) {
                    ctx->waiting = false;
                    deliver_listed(ctx);
                }
            });
            return true;
        });
        if (!asked) {
            ctx->ctx.failed = TRUE;
            ctx->listed = true;
        }
        return &ctx->ctx;
    }
    ctx->iter = glue::guarded(r, (vstore::VpopmailStore::Iterator *)nullptr,
                              [&] { return source.store().iterate().release(); });
    if (ctx->iter == nullptr)
        ctx->ctx.failed = TRUE;
    return &ctx->ctx;
}

void vpopmail_iterate_next(struct userdb_iterate_context *_ctx)
{
    auto *ctx = reinterpret_cast<vpopmail_iterate_context *>(_ctx);
    if (ctx->names != nullptr) {
        if (!ctx->listed)
            ctx->waiting = true;
        else
            deliver_listed(ctx);
        return;
    }
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
                compat::log_error(_ctx->auth_request, std::string(kDriver) + ": user iteration failed: " + error);
                _ctx->failed = TRUE;
                return false;
            }
            return false;
        });
    }
    if (have)
        ctx->count++;
    else
        warn_if_empty(_ctx, ctx->count);
    _ctx->callback(have ? name.c_str() : nullptr, _ctx->context);
}

int vpopmail_iterate_deinit(struct userdb_iterate_context *_ctx)
{
    auto *ctx = reinterpret_cast<vpopmail_iterate_context *>(_ctx);
    int ret = _ctx->failed ? -1 : 0;
    delete ctx->iter;
    delete ctx->names;
    if (ctx->alive != nullptr) {
        **ctx->alive = false;
        delete ctx->alive;
    }
    i_free(ctx);
    return ret;
}

struct userdb_module *vpopmail_userdb_create(pool_t pool, const compat::DriverConfig &config)
{
    return glue::create_userdb<VpopmailSource>(pool, config,
                                                      glue::parse_settings<vstore::VpopmailSettings>(config),
                                                      compat::kKeyUser);
}

}  // namespace

struct userdb_module_interface vstore_userdb_vpopmail = compat::userdb_interface<vpopmail_userdb_create, kDriver>(
    glue::init_userdb<glue::VpopmailSource, kDriver>, glue::deinit_userdb<glue::VpopmailSource>,
    vpopmail_userdb_lookup, vpopmail_iterate_init, vpopmail_iterate_next, vpopmail_iterate_deinit);
