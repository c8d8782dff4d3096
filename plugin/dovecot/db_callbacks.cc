#include "db_callbacks.h"

#include <string>
#include <utility>

#include "glue.h"

namespace glue {

vstore::LoginRequest login_request(struct auth_request *r, std::string *storage)
{
    *storage = compat::request_remote_ip(r);
    return {compat::request_user(r), compat::request_service(r), *storage, compat::request_local_name(r)};
}

void userdb_lookup(struct auth_request *r, const char *driver, userdb_callback_t *callback,
                   const std::function<vstore::Outcome(vstore::UserdbView *)> &lookup)
{
    vstore::UserdbView view;
    vstore::Outcome o;
    if (!guarded(r, false, [&] {
            o = lookup(&view);
            return true;
        })) {
        callback(USERDB_RESULT_INTERNAL_FAILURE, r);
        return;
    }
    userdb_answer(r, driver, callback, o, view);
}

void userdb_answer(struct auth_request *r, const char *driver, userdb_callback_t *callback, const vstore::Outcome &o,
                   const vstore::UserdbView &view)
{
    enum userdb_result result = guarded(r, USERDB_RESULT_INTERNAL_FAILURE, [&] {
        log_notes(r, driver, view.notes);
        log_outcome(r, driver, o);
        if (!o.is_ok())
            return to_userdb_result(o.verdict);
        for (const std::string &warning : view.warnings)
            compat::log_warning(r, std::string(driver) + ": " + warning);
        compat::set_userdb_view(r, view);
        return userdb_ok(r);
    });
    callback(result, r);
}

}  // namespace glue
