// vchkpw's verdict and the userdb view of a vpopmail account: the order of its checks and
// the reasons given for a refusal, for every caller (Dovecot glue, vstore, benchmarks).
#include "vpopmail_store.h"

namespace vstore {


LoginDecision VpopmailStore::decide(const LoginRequest &req, PasswordUse use, VpopmailAccount *account)
{
    const Outcome found = lookup(req.login, account);
    return decide_found(found, req, use, account);
}

LoginDecision VpopmailStore::decide_found(const Outcome &found, const LoginRequest &req, PasswordUse use,
                                          VpopmailAccount *account) const
{
    LoginDecision d;
    VpopmailAccount &a = *account;
    d.before = found;
    d.notes = a.notes;
    if (!d.before.is_ok())
        return d;
    d.user = a.canonical_name();
    const bool has_clear = !a.pw.clear.empty();
    if (use == PasswordUse::Credentials && has_clear) {
        // The clear field serves challenge-response mechanisms (CRAM-MD5, APOP, DIGEST-MD5),
        // as it does for vchkpw's authcram and APOP.
        d.password = {"PLAIN", a.pw.clear, false};
    } else if (use == PasswordUse::Plain && settings_.clear_prefer && has_clear) {
        // clear_password=prefer: as Dovecot's old vpopmail driver, not vchkpw (hash only).
        d.password = {"PLAIN", a.pw.clear, false};
    } else {
        // vchkpw 5.6 strips a leading "{...}" and crypt()s the rest: "{SHA512-CRYPT}$6$..."
        // logs in with its password, "{PLAIN}secret" never with "secret".
        d.password = {"CRYPT", vpopmail::crypt_part(a.pw.passwd), true};
        if (d.password.hash.empty()) {
            d.before = Outcome::fail(Verdict::Disabled, has_clear ? "the account has no password hash"
                                                                  : "the account has no password");
            return d;
        }
    }
    // After the password, as vchkpw: a wrong password never learns that the account is
    // restricted.
    d.after_match = check_service(a, req.service, req.remote_ip);
    return d;
}

Outcome VpopmailStore::userdb(std::string_view login, UserdbView *view)
{
    VpopmailAccount a;
    const Outcome found = lookup(login, &a);
    return userdb_found(found, a, view);
}

Outcome VpopmailStore::userdb_found(const Outcome &found, const VpopmailAccount &a, UserdbView *view)
{
    view->notes = a.notes;
    if (!found.is_ok())
        return found;
    if (a.pw.dir.empty())
        return Outcome::fail(Verdict::StoreFault, "user " + a.canonical_name() +
                                                      " has no directory in vpasswd (vpopmail's tools create it "
                                                      "on first delivery or login)");
    view->user = a.canonical_name();
    view->uid = a.domain.uid;
    view->gid = a.domain.gid;
    view->home = a.pw.dir;
    view->maildir = a.pw.dir + "/Maildir";
    const vpopmail::Quota quota = vpopmail::parse_quota(a.pw.quota);
    if (quota.valid) {
        view->quota_bytes = quota.bytes;
        view->quota_messages = quota.messages;
    } else {
        view->warnings.push_back("ignoring quota field '" + a.pw.quota + "' of " + a.canonical_name() +
                                 ": not a vpopmail quota (vdelivermail treats it as none)");
    }
    return Outcome::ok();
}

}  // namespace vstore
