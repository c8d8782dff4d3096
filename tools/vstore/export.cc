// vstore export: every user as Dovecot passwd-file lines or as SQL, for a migration or as a
// benchmark baseline. What a format cannot express is skipped and said on stderr.
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "dovecot_formats.h"
#include "sql_source.h"
#include "vmailmgr_store.h"
#include "vpopmail_store.h"

namespace vstore_cli {

namespace {

struct Row {
    std::string user, password, home, mail, quota_rule;
    unsigned uid = 0, gid = 0;
};

std::string sql_quote(const std::string &s)
{
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "''";
        else if (c == '\\')
            out += "\\\\";
        else
            out += c;
    }
    return out + "'";
}

// A row from what the passdb and the userdb answer for this name: the same decision and view
// the drivers give Dovecot. Refused or unknown names are skipped, with the store's reason.
template <class Decide, class Userdb>
bool add_row(const std::string &name, Decide decide, Userdb userdb, std::vector<Row> *rows, int *skipped)
{
    vstore::LoginDecision d = decide(vstore::LoginRequest{name, "imap", "", ""});
    vstore::UserdbView view;
    vstore::Outcome o = d.before;
    if (o.is_ok())
        o = userdb(&view);
    if (!o.is_ok()) {
        fprintf(stderr, "vstore: skipped %s: %s\n", name.c_str(), o.reason.c_str());
        ++*skipped;
        return false;
    }
    for (const std::string &w : view.warnings)
        fprintf(stderr, "vstore: note: %s\n", w.c_str());
    Row row;
    row.user = view.user;
    row.password = "{" + d.password.scheme + "}" + d.password.hash;
    row.uid = view.uid;
    row.gid = view.gid;
    row.home = view.home;
    row.mail = compat::maildir_location(view.maildir);
    row.quota_rule = compat::quota_rule(view.quota_bytes, view.quota_messages);
    rows->push_back(row);
    return true;
}

int collect_vpopmail(const Options &o, std::vector<Row> *rows, int *skipped)
{
    vstore::VpopmailSettings s;
    if (!parse_driver_settings(o, &s))
        return kUsage;
    std::string error;
    vstore::VpopmailStore store(s);
    auto add = [&](const std::string &name, vstore::VpopmailAccount &a, auto decide, auto userdb) {
        if (add_row(name, decide, userdb, rows, skipped) &&
            (a.flags & (vstore::vpopmail::NO_POP | vstore::vpopmail::NO_IMAP | vstore::vpopmail::NO_SMTP |
                        vstore::vpopmail::NO_WEBMAIL)) != 0)
            fprintf(stderr, "vstore: note: %s has service flags (%s) that passwd-file/SQL rows do not carry\n",
                    name.c_str(), vstore::vpopmail::flags_to_string(a.flags).c_str());
    };
    if (s.backend == vstore::VpopmailSettings::Backend::Mysql) {
        // the driver's listing and lookups on the database, the store's rules on each account
        auto sql = open_sql_source(s, &error);
        if (sql == nullptr) {
            fprintf(stderr, "vstore: %s\n", error.c_str());
            return kTempFail;
        }
        std::vector<std::string> names;
        const vstore::Outcome listed = sql->list(&names);
        if (!listed.is_ok()) {
            fprintf(stderr, "vstore: %s\n", listed.reason.c_str());
            return kTempFail;
        }
        for (const std::string &name : names) {
            vstore::VpopmailAccount a;
            vstore::Outcome found;
            auto decide = [&](const vstore::LoginRequest &req) {
                found = sql->find(std::string(req.login), &a);
                return store.decide_found(found, req, vstore::PasswordUse::Plain, &a);
            };
            auto userdb = [&](vstore::UserdbView *view) { return vstore::VpopmailStore::userdb_found(found, a, view); };
            add(name, a, decide, userdb);
        }
        return kOk;
    }
    auto it = store.iterate();
    std::string name;
    vstore::VpopmailStore::Iterator::Step st;
    while ((st = it->next(&name, &error)) == vstore::VpopmailStore::Iterator::Step::User) {
        vstore::VpopmailAccount a;
        auto decide = [&](const vstore::LoginRequest &req) {
            return store.decide(req, vstore::PasswordUse::Plain, &a);
        };
        add(name, a, decide, [&](vstore::UserdbView *view) { return store.userdb(name, view); });
    }
    if (st == vstore::VpopmailStore::Iterator::Step::Fault) {
        fprintf(stderr, "vstore: %s\n", error.c_str());
        return kTempFail;
    }
    return kOk;
}

int collect_vmailmgr(const Options &o, std::vector<Row> *rows, int *skipped)
{
    vstore::VmailmgrSettings s;
    if (!parse_driver_settings(o, &s))
        return kUsage;
    std::string error;
    vstore::VmailmgrStore store(s);
    std::vector<vstore::VmailmgrUnlisted> unlisted;
    const auto names = store.list_users(&error, &unlisted);
    for (const auto &u : unlisted) {
        fprintf(stderr, "vstore: skipped %s of base user %s: %s\n", u.virtual_name.c_str(), u.base_user.c_str(),
                u.reason.c_str());
        ++*skipped;
    }
    if (!error.empty()) {
        fprintf(stderr, "vstore: %s\n", error.c_str());
        return kTempFail;
    }
    for (const auto &name : names) {
        vstore::VmailmgrAccount a;
        add_row(
            name, [&](const vstore::LoginRequest &req) { return store.decide(req, time(nullptr), &a); },
            [&](vstore::UserdbView *view) { return store.userdb(name, "", view); }, rows, skipped);
    }
    return kOk;
}

}  // namespace

int cmd_export(const Options &o)
{
    if (o.format != "passwd-file" && o.format != "sql") {
        fprintf(stderr, "vstore export: --format passwd-file or --format sql\n");
        return kUsage;
    }
    std::vector<Row> rows;
    int skipped = 0;
    const int rc = o.store == "vpopmail" ? collect_vpopmail(o, &rows, &skipped) : collect_vmailmgr(o, &rows, &skipped);
    if (rc != kOk)
        return rc;
    if (o.format == "sql") {
        printf("-- vstore export %s: %zu users\n", o.store.c_str(), rows.size());
        printf("CREATE TABLE vstore_users (\n"
               "  username VARCHAR(255) NOT NULL PRIMARY KEY,  -- user@domain\n"
               "  password VARCHAR(255) NOT NULL,              -- {SCHEME}hash\n"
               "  uid INTEGER NOT NULL,\n  gid INTEGER NOT NULL,\n"
               "  home VARCHAR(255) NOT NULL,\n  mail VARCHAR(255) NOT NULL,\n"
               "  quota_rule VARCHAR(255)                      -- NULL: no quota\n);\n");
        for (const auto &r : rows)
            printf("INSERT INTO vstore_users VALUES (%s, %s, %u, %u, %s, %s, %s);\n", sql_quote(r.user).c_str(),
                   sql_quote(r.password).c_str(), r.uid, r.gid, sql_quote(r.home).c_str(), sql_quote(r.mail).c_str(),
                   r.quota_rule.empty() ? "NULL" : sql_quote(r.quota_rule).c_str());
        fprintf(stderr, "vstore export: %zu users, %d skipped\n", rows.size(), skipped);
        return kOk;
    }
    size_t written = 0;
    for (const auto &r : rows) {
        // passwd-file fields are ':'-separated and extra fields ' '-separated: no escape exists
        if (r.home.find_first_of(": \t") != std::string::npos || r.password.find_first_of(":\n") != std::string::npos ||
            r.user.find(':') != std::string::npos) {
            fprintf(stderr, "vstore: skipped %s: passwd-file cannot express a ':' or space in its home or password\n",
                    r.user.c_str());
            ++skipped;
            continue;
        }
        printf("%s:%s:%u:%u::%s::userdb_mail=%s%s%s\n", r.user.c_str(), r.password.c_str(), r.uid, r.gid,
               r.home.c_str(), r.mail.c_str(), r.quota_rule.empty() ? "" : " userdb_quota_rule=",
               r.quota_rule.c_str());
        written++;
    }
    fprintf(stderr, "vstore export: %zu users, %d skipped\n", written, skipped);
    return kOk;
}

}  // namespace vstore_cli
