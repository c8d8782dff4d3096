// vstore lookup: the drivers' resolution, step by step, and their verdict.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>

#include "cli.h"
#include "password_check.h"
#include "sql_source.h"
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

// The password step: the hash the store decided on, verified as Dovecot would.
int check_password(const vstore::PasswordToCheck &password, const std::string &plain)
{
    if (auto why = vstore::empty_password_refusal(plain)) {
        step("password:", *why + ": refused");
        return verdict(Outcome::fail(Verdict::Disabled, *why));
    }
    vstore::PasswordMatch m = vstore::verify_password(password.scheme, password.hash, plain);
    if (m == vstore::PasswordMatch::Unsupported) {
        step("password:", "scheme " + password.scheme + " cannot be verified outside Dovecot");
        return kTempFail;
    }
    if (m == vstore::PasswordMatch::Mismatch) {
        step("password:", "mismatch (" + password.scheme + ")");
        step("verdict:", "refused: password mismatch");
        return kRefused;
    }
    step("password:", "matches (" + password.scheme + ")");
    return kOk;
}

vstore::LoginRequest request(const Options &o, const std::string &login)
{
    return {login, o.service, o.rip, o.local_name};
}

int lookup_vpopmail(const Options &o, const std::string &login)
{
    vstore::VpopmailSettings s;
    if (!parse_driver_settings(o, &s))
        return kUsage;
    vstore::VpopmailStore store(s);
    vstore::VpopmailAccount a;
    step("login:", login);
    // backend=mysql: the account as the driver finds it in the database, decided on by the
    // same store rules (decide_found) as a cdb account
    std::unique_ptr<SqlSource> sql;
    if (s.backend == vstore::VpopmailSettings::Backend::Mysql) {
        std::string error;
        sql = open_sql_source(s, &error);
        if (sql == nullptr)
            return verdict(Outcome::fail(Verdict::StoreFault, error));
    }
    vstore::LoginDecision d =
        sql == nullptr ? store.decide(request(o, login), vstore::PasswordUse::Plain, &a)
                       : store.decide_found(sql->find(login, &a), request(o, login), vstore::PasswordUse::Plain, &a);
    if (!a.user.empty())
        step("parsed:", "user " + a.user + ", domain " + (a.login_domain.empty() ? "(none)" : a.login_domain));
    for (const auto &n : d.notes)
        step("note:", n);
    if (!a.domain.real_domain.empty()) {
        const auto &dom = a.domain;
        step("assign:", "!" + a.login_domain + "- -> " + dom.real_domain + " uid " + std::to_string(dom.uid) +
                            " gid " + std::to_string(dom.gid) + " dir " + dom.dir);
        step("store:", sql == nullptr ? dom.dir + "/vpasswd.cdb" : "MySQL, " + sql->where(dom.real_domain));
    }
    if (!d.user.empty()) {
        step("record:", "passwd " + a.pw.passwd.substr(0, 12) + "..., flags " + std::to_string(a.pw.flags) + " (" +
                            vstore::vpopmail::flags_to_string(a.pw.flags) + "), gecos " + a.pw.gecos + ", dir " +
                            a.pw.dir + ", quota " + a.pw.quota + ", clear " +
                            (a.pw.clear.empty() ? "(none)" : "(set)"));
        step("limits:", vstore::vpopmail::flags_to_string(a.limits_mask));
        step("flags:", vstore::vpopmail::flags_to_string(a.flags) + " (effective)");
        step("user:", a.canonical_name());
    }
    if (!d.before.is_ok())
        return verdict(d.before);
    if (!o.password_stdin)
        step("password:", "checked as " + d.password.scheme + " (give it with --password-stdin)");
    else {
        int rc = check_password(d.password, read_password());
        if (rc != kOk)
            return rc;
    }
    step("service:", o.service + (o.rip.empty() ? "" : " from " + o.rip) + ": " +
                         (d.after_match.is_ok() ? "allowed" : "refused"));
    return verdict(d.after_match);
}

int lookup_vmailmgr(const Options &o, const std::string &login)
{
    vstore::VmailmgrSettings s;
    if (!parse_driver_settings(o, &s))
        return kUsage;
    vstore::VmailmgrStore store(s);
    vstore::VmailmgrAccount a;
    step("login:", login);
    vstore::LoginDecision d = store.decide(request(o, login), time(nullptr), &a);
    if (!a.domain.empty())
        step("domain:", a.domain);
    for (const auto &n : d.notes)
        step("note:", n);
    if (!d.user.empty()) {
        const auto &rec = a.record;
        using vstore::vmailmgr::number_to_string;
        step("base user:", a.base.name + " uid " + std::to_string(a.base.uid) + " home " + a.base.home);
        step("record:", "version " + std::to_string(rec.version) + ", has_mailbox " + (rec.has_mailbox ? "1" : "0") +
                            ", mailbox_enabled " + (rec.mailbox_enabled ? "1" : "0") + ", directory " +
                            rec.directory + ", forwards " + std::to_string(rec.forwards.size()) + ", personal " +
                            rec.personal);
        step("limits:", "hardquota " + number_to_string(rec.hardquota) + ", softquota " +
                            number_to_string(rec.softquota) + ", msgsize " + number_to_string(rec.msgsize) +
                            ", msgcount " + number_to_string(rec.msgcount) + ", expiry " +
                            number_to_string(rec.expiry));
        if (rec.has_mailbox)
            step("mailbox:", a.mailbox);
        step("user:", a.canonical_name());
    }
    if (!d.before.is_ok())
        return verdict(d.before);
    if (o.password_stdin) {
        int rc = check_password(d.password, read_password());
        if (rc != kOk)
            return rc;
    }
    return verdict(d.after_match);
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
