#include "glue.h"

namespace glue {

void log_outcome(struct auth_request *r, const char *driver, const vstore::Outcome &o)
{
    using vstore::Verdict;
    const std::string prefix = std::string(driver) + ": ";
    switch (o.verdict) {
    case Verdict::Ok:
        return;
    case Verdict::InvalidLogin:
        compat::log_debug(r, prefix + "invalid login: " + o.reason);
        compat::log_unknown_user(r);
        return;
    case Verdict::UserUnknown:
        compat::log_debug(r, prefix + o.reason);
        compat::log_unknown_user(r);
        return;
    case Verdict::Disabled:
        compat::log_info(r, prefix + "login refused: " + o.reason);
        return;
    case Verdict::StoreFault:
        compat::log_error(r, prefix + "store fault (temporary failure): " + o.reason);
        return;
    }
}

bool refuse_empty_password(struct auth_request *r, const char *driver, const char *plain,
                           vstore::PasswordToCheck *password)
{
    auto why = vstore::empty_password_refusal(plain);
    if (!why)
        return false;
    compat::log_info(r, std::string(driver) + ": login refused: " + *why);
    compat::wipe(password->hash);
    return true;
}

void log_notes(struct auth_request *r, const char *driver, const std::vector<std::string> &notes)
{
    for (const std::string &note : notes)
        compat::log_debug(r, std::string(driver) + ": " + note);
}

enum passdb_result to_passdb_result(vstore::Verdict v)
{
    using vstore::Verdict;
    switch (v) {
    case Verdict::Ok: return PASSDB_RESULT_OK;
    case Verdict::InvalidLogin:
    case Verdict::UserUnknown: return PASSDB_RESULT_USER_UNKNOWN;
    case Verdict::Disabled: return PASSDB_RESULT_USER_DISABLED;
    case Verdict::StoreFault: return PASSDB_RESULT_INTERNAL_FAILURE;
    }
    return PASSDB_RESULT_INTERNAL_FAILURE;
}

enum userdb_result to_userdb_result(vstore::Verdict v)
{
    using vstore::Verdict;
    switch (v) {
    case Verdict::Ok: return USERDB_RESULT_OK;
    case Verdict::InvalidLogin:
    case Verdict::UserUnknown:
    case Verdict::Disabled: return USERDB_RESULT_USER_UNKNOWN;
    case Verdict::StoreFault: return USERDB_RESULT_INTERNAL_FAILURE;
    }
    return USERDB_RESULT_INTERNAL_FAILURE;
}

}  // namespace glue
