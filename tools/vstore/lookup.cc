// vstore lookup: the drivers' resolution, step by step, and their verdict.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>

#include "cli.h"
#include "password_check.h"
#include "vmailmgr_store.h"
#include "vpopmail_store.h"

namespace vstore_cli {

namespace {

using vstore::Outcome;
using vstore::Verdict;

void step(const char *name, const std::string &text) { printf("%-16s %s\n", name, text.c_str()); }

int verdict(const Outcome &o)
{
    switch (o.verdict) {
    case Verdict::Ok:
        step("verdict:", "ok");
        return kOk;
    case Verdict::InvalidLogin:
        step("verdict:", "user unknown: invalid login: " + o.reason);
        return kUnknown;
    case Verdict::UserUnknown:
        step("verdict:", "user unknown: " + o.reason);
        return kUnknown;
    case Verdict::Disabled:
        step("verdict:", "refused: " + o.reason);
        return kRefused;
    case Verdict::StoreFault:
        step("verdict:", "temporary failure: store fault: " + o.reason);
        return kTempFail;
    }
    return kTempFail;
}

std::string read_password()
{
    std::string pw;
    std::getline(std::cin, pw);
    return pw;
}

// The password step: as the driver hands the hash to Dovecot, then as Dovecot verifies it.
int check_password(const std::string &scheme, const std::string &hash, const std::string &plain)
{
    if (plain.empty()) {
        step("password:", "empty: refused");
        return verdict(Outcome::fail(Verdict::Disabled, "empty password"));
    }
    vstore::PasswordMatch m = vstore::verify_password(scheme, hash, plain);
    if (m == vstore::PasswordMatch::Unsupported) {
        step("password:", "scheme " + scheme + " cannot be verified outside Dovecot");
        return kTempFail;
    }
    if (m == vstore::PasswordMatch::Mismatch) {
        step("password:", "mismatch (" + scheme + ")");
        step("verdict:", "refused: password mismatch");
        return kRefused;
    }
    step("password:", "matches (" + scheme + ")");
    return kOk;
}

int lookup_vpopmail(const Options &o, const std::string &login)
{
    vstore::VpopmailSettings s;
    if (!parse_driver_settings(o, &s))
        return kUsage;
    vstore::VpopmailStore store(s);
    vstore::VpopmailAccount a;
    step("login:", login);
    Outcome r = store.lookup(login, &a);
    if (!a.user.empty())
        step("parsed:", "user " + a.user + ", domain " + (a.login_domain.empty() ? "(none)" : a.login_domain));
    for (const auto &n : a.notes)
        step("note:", n);
    if (!r.is_ok())
        return verdict(r);
    const auto &d = a.domain;
    step("assign:", "!" + a.login_domain + "- -> " + d.real_domain + " uid " + std::to_string(d.uid) + " gid " +
                        std::to_string(d.gid) + " dir " + d.dir);
    step("store:", d.dir + "/vpasswd.cdb");
    const auto stored = vstore::vpopmail::split_scheme(a.pw.passwd);
    step("record:", "passwd " + a.pw.passwd.substr(0, 12) + "... (" + stored.scheme + "), flags " +
                        std::to_string(a.pw.flags) + " (" + vstore::vpopmail::flags_to_string(a.pw.flags) +
                        "), gecos " + a.pw.gecos + ", dir " + a.pw.dir + ", quota " + a.pw.quota +
                        ", clear " + (a.pw.clear.empty() ? "(none)" : "(set)"));
    step("limits:", vstore::vpopmail::flags_to_string(a.limits_mask));
    step("flags:", vstore::vpopmail::flags_to_string(a.flags) + " (effective)");
    step("user:", a.canonical_name());
    if (o.password_stdin) {
        const std::string plain = read_password();
        if (a.pw.passwd.empty() && a.pw.clear.empty())
            return verdict(Outcome::fail(Verdict::Disabled, "the account has no password"));
        const bool clear = s.clear_prefer && !a.pw.clear.empty();
        int rc = check_password(clear ? "PLAIN" : stored.scheme, clear ? a.pw.clear : stored.hash, plain);
        if (rc != kOk)
            return rc;
    }
    Outcome svc = store.check_service(a, o.service, o.rip);
    step("service:", o.service + (o.rip.empty() ? "" : " from " + o.rip) + ": " +
                         (svc.is_ok() ? "allowed" : "refused"));
    return verdict(svc);
}

int lookup_vmailmgr(const Options &o, const std::string &login)
{
    vstore::VmailmgrSettings s;
    if (!parse_driver_settings(o, &s))
        return kUsage;
    vstore::VmailmgrStore store(s);
    vstore::VmailmgrAccount a;
    step("login:", login);
    Outcome r = store.lookup(login, o.local_name, &a);
    if (!a.domain.empty())
        step("domain:", a.domain);
    for (const auto &n : a.notes)
        step("note:", n);
    if (!r.is_ok())
        return verdict(r);
    const auto &rec = a.record;
    using vstore::vmailmgr::number_to_string;
    step("base user:", a.base.name + " uid " + std::to_string(a.base.uid) + " home " + a.base.home);
    step("record:", "version " + std::to_string(rec.version) + ", has_mailbox " + (rec.has_mailbox ? "1" : "0") +
                        ", mailbox_enabled " + (rec.mailbox_enabled ? "1" : "0") + ", directory " + rec.directory +
                        ", forwards " + std::to_string(rec.forwards.size()) + ", personal " + rec.personal);
    step("limits:", "hardquota " + number_to_string(rec.hardquota) + ", softquota " + number_to_string(rec.softquota) +
                        ", msgsize " + number_to_string(rec.msgsize) + ", msgcount " + number_to_string(rec.msgcount) +
                        ", expiry " + number_to_string(rec.expiry));
    if (rec.has_mailbox)
        step("mailbox:", a.mailbox);
    step("user:", a.canonical_name());
    Outcome allowed = store.check_login_allowed(a, time(nullptr));
    if (!allowed.is_ok())
        return verdict(allowed);
    auto check = vstore::vmailmgr::classify_password(rec.password);
    if (check.never)
        return verdict(Outcome::fail(Verdict::Disabled, "the entry has no usable password ('*' or empty)"));
    if (o.password_stdin) {
        int rc = check_password(check.scheme, check.hash, read_password());
        if (rc != kOk)
            return rc;
    }
    return verdict(Outcome::ok());
}

}  // namespace

int cmd_lookup(const Options &o)
{
    if (o.words.size() != 1) {
        fprintf(stderr, "vstore lookup: exactly one LOGIN expected\n");
        return kUsage;
    }
    return o.store == "vpopmail" ? lookup_vpopmail(o, o.words[0]) : lookup_vmailmgr(o, o.words[0]);
}

}  // namespace vstore_cli
