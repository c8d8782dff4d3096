// vstore export: every user as Dovecot passwd-file lines or as SQL, for a migration or as a
// benchmark baseline. What a format cannot express is skipped and said on stderr.
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "cli.h"
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

int collect_vpopmail(const Options &o, std::vector<Row> *rows, int *skipped)
{
    vstore::VpopmailSettings s;
    if (!parse_driver_settings(o, &s))
        return kUsage;
    std::string error;
    vstore::VpopmailStore store(s);
    auto it = store.iterate();
    std::string name;
    vstore::VpopmailStore::Iterator::Step st;
    while ((st = it->next(&name, &error)) == vstore::VpopmailStore::Iterator::Step::User) {
        vstore::VpopmailAccount a;
        vstore::Outcome r = store.lookup(name, &a);
        if (!r.is_ok()) {
            fprintf(stderr, "vstore: skipped %s: %s\n", name.c_str(), r.reason.c_str());
            ++*skipped;
            continue;
        }
        if (a.pw.flags != 0 && (a.flags & (vstore::vpopmail::NO_POP | vstore::vpopmail::NO_IMAP |
                                           vstore::vpopmail::NO_SMTP | vstore::vpopmail::NO_WEBMAIL)) != 0)
            fprintf(stderr, "vstore: note: %s has service flags (%s) that passwd-file/SQL rows do not carry\n",
                    name.c_str(), vstore::vpopmail::flags_to_string(a.flags).c_str());
        const auto h = vstore::vpopmail::split_scheme(a.pw.passwd);
        Row row;
        row.user = a.canonical_name();
        row.password = "{" + h.scheme + "}" + h.hash;
        row.uid = a.domain.uid;
        row.gid = a.domain.gid;
        row.home = a.pw.dir;
        row.mail = vstore::maildir_location(a.pw.dir + "/Maildir");
        row.quota_rule = vstore::vpopmail::quota_rule(vstore::vpopmail::parse_quota(a.pw.quota));
        rows->push_back(row);
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
    const auto names = store.list_users(&error);
    if (!error.empty()) {
        fprintf(stderr, "vstore: %s\n", error.c_str());
        return kTempFail;
    }
    for (const auto &name : names) {
        vstore::VmailmgrAccount a;
        vstore::Outcome r = store.lookup(name, "", &a);
        if (r.is_ok())
            r = store.check_login_allowed(a, time(nullptr));
        auto pw = vstore::vmailmgr::classify_password(a.record.password);
        if (r.is_ok() && pw.never)
            r = vstore::Outcome::fail(vstore::Verdict::Disabled, "no usable password");
        if (!r.is_ok()) {
            fprintf(stderr, "vstore: skipped %s: %s\n", name.c_str(), r.reason.c_str());
            ++*skipped;
            continue;
        }
        Row row;
        row.user = name;
        row.password = "{" + pw.scheme + "}" + pw.hash;
        row.uid = a.base.uid;
        row.gid = a.base.gid;
        row.home = a.mailbox;
        row.mail = vstore::maildir_location(a.mailbox);
        row.quota_rule = vstore::vmailmgr::quota_rule(a.record);
        rows->push_back(row);
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
