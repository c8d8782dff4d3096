// vstore check: scans a whole store like fsck and reports, one line each, what would make a
// login fail (errors) or what will bite later (warnings).
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "cdb_file.h"
#include "cli.h"
#include "file_util.h"
#include "sql_source.h"
#include "vmailmgr_format.h"
#include "vmailmgr_store.h"
#include "vpopmail_format.h"
#include "vpopmail_sql.h"
#include "vpopmail_store.h"

namespace vstore_cli {

namespace {

class Report {
public:
    void error(const std::string &where, const std::string &what) { line("error", where, what), errors_++; }
    void warning(const std::string &where, const std::string &what) { line("warning", where, what), warnings_++; }
    void progress(const std::string &what)
    {
        users_++;
        if (tty_ && users_ % 1000 == 0)
            fprintf(stderr, "\r%zu users checked (%s)   ", users_, what.c_str());
    }
    void domain() { domains_++; }
    int finish(const char *store)
    {
        if (tty_ && users_ >= 1000)
            fprintf(stderr, "\r%*s\r", 60, "");
        printf("%s: %zu domains, %zu users checked: %zu errors, %zu warnings\n", store, domains_, users_, errors_,
               warnings_);
        return errors_ > 0 ? 1 : 0;
    }

private:
    void line(const char *kind, const std::string &where, const std::string &what)
    {
        printf("%s: %s: %s\n", kind, where.c_str(), what.c_str());
    }
    bool tty_ = isatty(2) != 0;
    size_t domains_ = 0, users_ = 0, errors_ = 0, warnings_ = 0;
};

bool exists(const std::string &path, bool *is_dir = nullptr)
{
    struct stat st;
    if (stat(path.c_str(), &st) < 0)
        return false;
    if (is_dir)
        *is_dir = S_ISDIR(st.st_mode);
    return true;
}

bool has_upper(std::string_view s)
{
    for (char c : s)
        if (c >= 'A' && c <= 'Z')
            return true;
    return false;
}

std::string printable(std::string_view s)
{
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            char b[8];
            snprintf(b, sizeof(b), "\\x%02x", c);
            out += b;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

// warnings about a user's home, as for vpasswd.cdb records
void check_home(Report &rep, const std::string &who, const std::string &dir)
{
    if (dir.empty())
        rep.warning(who, "no home directory in the record");
    else if (!exists(dir))
        rep.warning(who, "home " + dir + " does not exist");
    else if (!exists(dir + "/Maildir"))
        rep.warning(who, "Maildir " + dir + "/Maildir does not exist");
}

void check_vpopmail_domain(Report &rep, const std::string &domain, const vstore::vpopmail::AssignRecord &rec)
{
    rep.domain();
    bool is_dir = false;
    if (!exists(rec.dir, &is_dir) || !is_dir) {
        rep.error(domain, "assign entry's directory " + rec.dir + " is gone");
        return;
    }
    const std::string cdb_path = rec.dir + "/vpasswd.cdb", text_path = rec.dir + "/vpasswd";
    std::map<std::string, std::string> text;  // name -> rest of line
    vstore::ReadResult t = vstore::read_file(text_path, 256u << 20);
    if (t.status == vstore::ReadStatus::Ok) {
        size_t pos = 0;
        while (pos < t.content.size()) {
            size_t nl = t.content.find('\n', pos);
            std::string line = t.content.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
            pos = nl == std::string::npos ? t.content.size() : nl + 1;
            size_t colon = line.find(':');
            if (colon == std::string::npos || colon == 0) {
                rep.warning(text_path, "line without a user name: '" + printable(line) + "'");
                continue;
            }
            text[line.substr(0, colon)] = line.substr(colon + 1);
        }
    } else if (t.status == vstore::ReadStatus::Error) {
        rep.warning(text_path, t.error);
    }
    bool missing = false;
    std::string error;
    auto cdb = vstore::CdbFile::open(cdb_path, &missing, &error);
    if (cdb == nullptr) {
        if (missing && t.status == vstore::ReadStatus::Ok)
            rep.warning(cdb_path, "missing: logins read the text vpasswd (run vmkpasswd " + domain + ")");
        else
            rep.error(cdb_path, missing ? "missing, and no readable vpasswd either" : error);
        if (!missing || t.status != vstore::ReadStatus::Ok)
            return;
    }
    struct stat cst, tst;
    if (cdb != nullptr && t.status == vstore::ReadStatus::Ok && stat(cdb_path.c_str(), &cst) == 0 &&
        stat(text_path.c_str(), &tst) == 0 && tst.st_mtime > cst.st_mtime)
        rep.warning(text_path, "newer than vpasswd.cdb: its changes are invisible until vmkpasswd " + domain);
    std::set<std::string> seen;
    if (cdb != nullptr) {
        unsigned pos = 0;
        std::string k, v;
        int r;
        while ((r = cdb->next(&pos, &k, &v)) > 0) {
            const std::string key(k);
            if (key.empty() || !vstore::vpopmail::is_username_valid(key)) {
                rep.warning(cdb_path, "junk key '" + printable(key) + "' (vpopmail 5.4.33's long-line bug leaves these)");
                continue;
            }
            if (!seen.insert(key).second)
                rep.warning(cdb_path, "duplicate key '" + key + "': only the first record is ever read");
            if (has_upper(key))
                rep.warning(cdb_path, "upper-case key '" + key + "' can never be found (logins are lowercased)");
            std::string err;
            auto rec_v = vstore::vpopmail::parse_vpasswd_value(v, &err);
            rep.progress(domain);
            if (!rec_v) {
                rep.error(key + "@" + domain, err);
                continue;
            }
            check_home(rep, key + "@" + domain, rec_v->dir);
            auto it = text.find(key);
            if (t.status == vstore::ReadStatus::Ok && it == text.end())
                rep.warning(key + "@" + domain, "in vpasswd.cdb but not in vpasswd");
            else if (it != text.end() && it->second != v)
                rep.warning(key + "@" + domain, "vpasswd.cdb record differs from the vpasswd line (cut by the long-line bug, or stale)");
        }
        if (r < 0)
            rep.error(cdb_path, "corrupt");
        for (const auto &[name, line] : text)
            if (seen.count(name) == 0)
                rep.error(name + "@" + domain, "in vpasswd but not in vpasswd.cdb: cannot log in");
    } else {
        for (const auto &[name, line] : text) {
            std::string err;
            rep.progress(domain);
            if (!vstore::vpopmail::parse_vpasswd_value(line, &err))
                rep.error(name + "@" + domain, err);
        }
    }
}

// backend=mysql: every user the driver's iteration lists, looked up as a login is (the same
// source and store rules as the driver): what would fail is an error. false when the database
// cannot be read at all (*fault says why).
bool check_vpopmail_sql(Report &rep, const vstore::VpopmailSettings &s,
                        const std::map<std::string, vstore::vpopmail::AssignRecord> &real, std::string *fault)
{
    auto sql = open_sql_source(s, fault);
    if (sql == nullptr)
        return false;
    for (const std::string &p : sql->startup_problems())
        rep.error("start-up", p);
    for (const auto &[domain, rec] : real) {
        rep.domain();
        bool is_dir = false;
        if (!exists(rec.dir, &is_dir) || !is_dir)
            rep.error(domain, "assign entry's directory " + rec.dir + " is gone");
        if (!s.many_domains)
            if (auto why = vstore::vpopmail_sql::table_refusal(domain))
                rep.error(domain, *why + ": its users cannot log in");
    }
    std::vector<std::string> users;
    const vstore::Outcome listed = sql->list(&users);
    if (!listed.is_ok()) {
        *fault = listed.reason;
        return false;
    }
    vstore::VpopmailStore store(s);
    for (const std::string &name : users) {
        rep.progress(name);
        if (has_upper(name))
            rep.warning(name, "upper-case pw_name: logins are lowercased before the query");
        vstore::VpopmailAccount a;
        const vstore::Outcome found = sql->find(name, &a);
        // a failed query (the server went away) is no fact about this user
        if (found.verdict == vstore::Verdict::StoreFault && found.reason.rfind("MySQL query", 0) == 0) {
            *fault = found.reason;
            return false;
        }
        const vstore::LoginDecision d =
            store.decide_found(found, vstore::LoginRequest{name, "imap", "", ""}, vstore::PasswordUse::Plain, &a);
        if (!d.before.is_ok()) {
            rep.error(name, d.before.reason);
            continue;
        }
        vstore::UserdbView view;
        const vstore::Outcome u = vstore::VpopmailStore::userdb_found(found, a, &view);
        if (!u.is_ok()) {
            rep.error(name, u.reason);
            continue;
        }
        for (const std::string &w : view.warnings)
            rep.warning(name, w);
        check_home(rep, name, a.pw.dir);
    }
    return true;
}

int check_vpopmail(const Options &o)
{
    vstore::VpopmailSettings s;
    if (!parse_driver_settings(o, &s))
        return kUsage;
    std::string error;
    Report rep;
    const std::string assign = s.qmail_dir + "/users/cdb";
    bool missing = false;
    auto cdb = vstore::CdbFile::open(assign, &missing, &error);
    if (cdb == nullptr) {
        rep.error(assign, error + (missing ? " (run qmail-newu)" : ""));
        return rep.finish("vpopmail");
    }
    std::map<std::string, vstore::vpopmail::AssignRecord> real, alias;
    unsigned pos = 0;
    std::string k, v;
    int r;
    while ((r = cdb->next(&pos, &k, &v)) > 0) {
        if (k.size() < 3 || k.front() != '!' || k.back() != '-')
            continue;
        const std::string domain(k.substr(1, k.size() - 2));
        std::string err;
        auto rec = vstore::vpopmail::parse_assign_value(v, &err);
        if (!rec) {
            rep.error(assign, "entry for " + domain + ": " + err);
            continue;
        }
        (rec->real_domain == domain ? real : alias)[domain] = *rec;
    }
    if (r < 0)
        rep.error(assign, "corrupt");
    for (const auto &[domain, rec] : alias)
        if (real.count(rec.real_domain) == 0)
            rep.error(domain, "alias of " + rec.real_domain + ", which is not a domain in " + assign);
    if (s.backend == vstore::VpopmailSettings::Backend::Mysql) {
        if (!check_vpopmail_sql(rep, s, real, &error)) {
            fprintf(stderr, "vstore check: temporary failure: %s\n", error.c_str());
            return kTempFail;
        }
        return rep.finish("vpopmail (MySQL)");
    }
    for (const auto &[domain, rec] : real)
        check_vpopmail_domain(rep, domain, rec);
    return rep.finish("vpopmail");
}

int check_vmailmgr(const Options &o)
{
    vstore::VmailmgrSettings s;
    if (!parse_driver_settings(o, &s))
        return kUsage;
    std::string error;
    Report rep;
    vstore::VmailmgrStore store(s);
    std::string qmail;
    vstore::Outcome q = store.resolved_qmail_dir(&qmail);
    if (!q.is_ok()) {
        rep.error("qmail_dir", q.reason);
        return rep.finish("vmailmgr");
    }
    vstore::ReadResult vd = vstore::read_file(qmail + "/control/virtualdomains", 64u << 20);
    if (vd.status == vstore::ReadStatus::Error) {
        rep.error(qmail + "/control/virtualdomains", vd.error);
        return rep.finish("vmailmgr");
    }
    std::set<std::string> bases;
    for (const auto &[domain, prefix] : vstore::vmailmgr::parse_virtualdomains(vd.content))
        bases.insert(prefix);
    for (const std::string &base : bases) {
        rep.domain();
        auto user = s.lookup_base_user(base);
        if (!user) {
            rep.error(base, "base user named in control/virtualdomains does not exist");
            continue;
        }
        // the store the drivers read: ~/.vmailmgr/password-file honoured
        std::shared_ptr<vstore::CdbFile> cdb;
        std::string path;
        vstore::Outcome opened = store.open_base_store(*user, &cdb, &path);
        if (!path.empty() && exists(path + ".tmp"))
            rep.warning(path + ".tmp", "stale temporary file: vmailmgr's tools refuse to write until it is removed");
        if (!opened.is_ok()) {
            rep.error(path.empty() ? base : path, opened.reason);
            continue;
        }
        std::set<std::string> seen;
        unsigned pos = 0;
        std::string k, v;
        int r;
        while ((r = cdb->next(&pos, &k, &v)) > 0) {
            const std::string key(k), where = key + " (" + base + ")";
            rep.progress(base);
            if (!seen.insert(key).second)
                rep.warning(where, "duplicate key: only the first record is ever read");
            if (has_upper(key))
                rep.warning(where, "upper-case key can never be found (logins are lowercased)");
            std::string err;
            auto rec = vstore::vmailmgr::decode_record(v, vstore::vmailmgr::Limits(), &err);
            if (!rec) {
                rep.error(where, err);
                continue;
            }
            std::string dir;
            if (rec->has_mailbox && !vstore::vmailmgr::resolve_directory(user->home, rec->directory, &dir, &err))
                rep.error(where, err);
            else if (rec->has_mailbox && !exists(dir))
                rep.warning(where, "mailbox " + dir + " does not exist");
        }
        if (r < 0)
            rep.error(path, "corrupt");
    }
    return rep.finish("vmailmgr");
}

}  // namespace

int cmd_check(const Options &o)
{
    if (!o.words.empty()) {
        fprintf(stderr, "vstore check: unexpected argument '%s'\n", o.words[0].c_str());
        return kUsage;
    }
    return o.store == "vpopmail" ? check_vpopmail(o) : check_vmailmgr(o);
}

}  // namespace vstore_cli
