// checkvpw's verdict and the userdb view of a vmailmgr virtual user: the order of its checks
// and the reasons given for a refusal, for every caller (Dovecot glue, vstore, benchmarks).
#include "vmailmgr_store.h"

namespace vstore {

LoginDecision VmailmgrStore::decide(const LoginRequest &req, time_t now, VmailmgrAccount *account)
{
    LoginDecision d;
    VmailmgrAccount &a = *account;
    d.before = lookup(req.login, req.local_name, &a);
    d.notes = a.notes;
    if (!d.before.is_ok())
        return d;
    d.user = a.canonical_name();
    d.before = check_login_allowed(a, now);
    if (!d.before.is_ok())
        return d;
    vmailmgr::PasswordCheck stored = vmailmgr::classify_password(a.record.password);
    if (stored.never) {
        d.before = Outcome::fail(Verdict::Disabled, "the entry has no usable password ('*' or empty)");
        return d;
    }
    // "$0$" plaintext serves every challenge-response mechanism as PLAIN.
    d.password = {std::move(stored.scheme), std::move(stored.hash), true};
    d.after_match = Outcome::ok();  // checkvpw has no per-service rules
    return d;
}

Outcome VmailmgrStore::userdb(std::string_view login, std::string_view local_name, UserdbView *view)
{
    VmailmgrAccount a;
    Outcome o = lookup(login, local_name, &a);
    view->notes = a.notes;
    if (!o.is_ok())
        return o;
    if (!a.record.has_mailbox)
        return Outcome::fail(Verdict::UserUnknown, "user " + a.virtual_name + " is an alias without a mailbox");
    using vmailmgr::number_to_string;
    const vmailmgr::Record &rec = a.record;
    view->user = a.canonical_name();
    view->uid = a.base.uid;
    view->gid = a.base.gid;
    view->home = a.mailbox;
    view->maildir = a.mailbox;
    view->quota_bytes = vmailmgr::limit(rec.hardquota);
    view->quota_messages = vmailmgr::limit(rec.msgcount);
    // vmailmgr's own limits and facts, under the names checkvpw's environment gives them.
    view->extra_fields = {
        {"vmailmgr_base_user", a.base.name},
        {"vmailmgr_personal", rec.personal},
        {"vmailmgr_forwards", std::to_string(rec.forwards.size())},
        {"vmailmgr_ctime", number_to_string(rec.ctime)},
        {"vmailmgr_expiry", number_to_string(rec.expiry)},
        {"vmailmgr_softquota", number_to_string(rec.softquota)},
        {"vmailmgr_msgsize", number_to_string(rec.msgsize)},
        {"vmailmgr_mailbox_enabled", rec.mailbox_enabled ? "1" : "0"},
    };
    return Outcome::ok();
}

}  // namespace vstore
