// vstore config-check: Dovecot's configuration (doveconf -n) against the drivers' own
// settings code and the stores, as the processes that will read them: one line per problem.
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <functional>
#include <optional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli.h"
#include "fs_broker.h"
#include "file_util.h"
#include "vmailmgr_store.h"
#include "vpopmail_store.h"

namespace vstore_cli {

namespace {

// A passdb or userdb block of doveconf -n.
struct Db {
    std::string kind, name, driver;
    vstore::SettingWords words;  // 2.3: the args words; 2.4: the driver's named settings
    vstore::SettingNames names = vstore::SettingNames::Args;
    std::string use_worker;      // 2.4's setting, when given
};

struct DovecotConfig {
    std::map<std::string, std::string> global;
    std::map<std::string, std::string> service_user;  // service name -> user
    std::vector<Db> dbs;
};

std::string trimmed(std::string_view s) { return std::string(vstore::trim(s)); }

// doveconf -n's output: "key = value" lines, "name [filter] {" ... "}" blocks.
DovecotConfig parse_doveconf(const std::string &text)
{
    DovecotConfig c;
    std::vector<std::string> stack;
    Db *db = nullptr;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        const std::string line = trimmed(std::string_view(text).substr(pos, nl == std::string::npos ? nl : nl - pos));
        pos = nl == std::string::npos ? text.size() : nl + 1;
        if (line.empty() || line[0] == '#')
            continue;
        if (line.back() == '{') {
            stack.push_back(trimmed(line.substr(0, line.size() - 1)));
            const std::string &h = stack.back();
            db = nullptr;
            if (stack.size() == 1 && (h == "passdb" || h == "userdb" || h.rfind("passdb ", 0) == 0 ||
                                      h.rfind("userdb ", 0) == 0)) {
                c.dbs.push_back({h.substr(0, 6), h.size() > 7 ? h.substr(7) : "", "", {}, vstore::SettingNames::Args, ""});
                db = &c.dbs.back();
                db->names = h.size() > 7 ? vstore::SettingNames::Named24 : vstore::SettingNames::Args;
            }
            continue;
        }
        if (line == "}") {
            if (!stack.empty())
                stack.pop_back();
            db = stack.size() == 1 && !c.dbs.empty() && (stack.back().rfind("passdb", 0) == 0 ||
                                                         stack.back().rfind("userdb", 0) == 0)
                     ? &c.dbs.back()
                     : nullptr;
            continue;
        }
        const size_t eq = line.find('=');
        if (eq == std::string::npos)
            continue;
        const std::string key = trimmed(line.substr(0, eq)), value = trimmed(line.substr(eq + 1));
        if (stack.empty()) {
            c.global[key] = value;
        } else if (stack.size() == 1 && stack[0].rfind("service ", 0) == 0 && key == "user") {
            c.service_user[stack[0].substr(8)] = value;
        } else if (db != nullptr && stack.size() == 1) {
            if (key == "driver")
                db->driver = value;
            else if (key == "args" && db->names == vstore::SettingNames::Args) {
                std::string error;
                vstore::split_args_words(value, &db->words, &error);
            } else if (key == "use_worker" || key == db->kind + "_use_worker")
                db->use_worker = value;
            else if (db->names == vstore::SettingNames::Named24 &&
                     (key.rfind("vpopmail_", 0) == 0 || key.rfind("vmailmgr_", 0) == 0))
                db->words.emplace_back(key, value);
        }
    }
    return c;
}

// The store's start-up problems as `user` sees them: checked in a child that became that user
// (after starting a store broker for `brokered`, as the drivers do in the auth process).
std::vector<std::string> problems_as(const std::string &user, const std::function<std::vector<std::string>()> &check,
                                     const std::optional<vstore::BrokeredStore> &brokered)
{
    int fds[2];
    if (pipe(fds) < 0)
        return {"pipe() failed"};
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        struct passwd *pw = getpwnam(user.c_str());
        std::string out, error;
        if (pw == nullptr) {
            out = "there is no system user " + user + "\n";
        } else if (brokered && pw->pw_uid != 0 && getuid() == 0 &&
                   (!vstore::fs_broker::start(&error) || !vstore::fs_broker::add_store(*brokered, &error))) {
            out = "cannot start the store broker: " + error + "\n";
        } else if (pw->pw_uid != 0 && (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
                                       setuid(pw->pw_uid) < 0)) {
            out = "cannot become " + user + " to check (run vstore config-check as root)\n";
        } else {
            for (const std::string &p : check())
                out += p + "\n";
        }
        (void)!write(fds[1], out.data(), out.size());
        _exit(0);
    }
    close(fds[1]);
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof(buf))) > 0)
        text.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    std::vector<std::string> lines;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        lines.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    return lines;
}

bool mentions(const std::string &list, const char *mech)
{
    std::string l = vstore::ascii_lower(list);
    for (char &ch : l)
        if (ch == ',')
            ch = ' ';
    return (" " + l + " ").find(std::string(" ") + mech + " ") != std::string::npos;
}

// A challenge-response mechanism needs a clear password; count the users that have none.
std::string users_without_clear(const std::string &where, const std::string &mechanisms, unsigned without,
                                unsigned users)
{
    return where + ": auth_mechanisms = " + mechanisms + " offers challenge-response, but " + std::to_string(without) +
           " of " + std::to_string(users) + " users have no clear password: clients that pick it cannot log them in";
}

}  // namespace

int cmd_config_check(const Options &o)
{
    if (o.words.size() > 1) {
        fprintf(stderr, "vstore config-check: at most one FILE (a dovecot.conf)\n");
        return kUsage;
    }
    const std::string cmd = "doveconf -n" + (o.words.empty() ? std::string() : " -c '" + o.words[0] + "'") + " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    std::string text;
    char buf[4096];
    size_t n;
    while (p != nullptr && (n = fread(buf, 1, sizeof(buf), p)) > 0)
        text.append(buf, n);
    if (p == nullptr || pclose(p) != 0) {
        fprintf(stderr, "vstore config-check: %s failed: %s\n", cmd.c_str(), text.c_str());
        return kTempFail;
    }
    const DovecotConfig conf = parse_doveconf(text);
    std::vector<std::string> problems;
    const bool is24 = text.find("dovecot_config_version") != std::string::npos;
    auto global = [&conf](const char *key, const char *dflt) {
        auto it = conf.global.find(key);
        return it == conf.global.end() ? std::string(dflt) : it->second;
    };
    const std::string internal_user = global("default_internal_user", "dovecot");
    auto service_user = [&](const char *service, const std::string &dflt) {
        auto it = conf.service_user.find(service);
        std::string u = it == conf.service_user.end() ? dflt : it->second;
        return u == "$default_internal_user" || u == "$SET:default_internal_user" ? internal_user : u;
    };
    const std::string auth_user = service_user("auth", internal_user);
    const std::string worker_user = service_user("auth-worker", "root");
    const unsigned long first_valid_uid = std::stoul(global("first_valid_uid", "500"));
    const std::string mechanisms = global("auth_mechanisms", "plain");
    const bool challenge = mentions(mechanisms, "cram-md5") || mentions(mechanisms, "digest-md5") ||
                           mentions(mechanisms, "apop") || mentions(mechanisms, "scram-sha-1") ||
                           mentions(mechanisms, "scram-sha-256");
    bool ours = false;
    std::set<std::string> checked;
    for (const Db &db : conf.dbs) {
        if (db.driver != "vpopmail" && db.driver != "vmailmgr")
            continue;
        ours = true;
        const std::string where = db.kind + (db.name.empty() ? "" : " " + db.name) + " (driver " + db.driver + ")";
        std::string error;
        bool blocking = true;
        std::function<std::vector<std::string>()> check;
        vstore::BrokeredStore brokered;
        std::vector<std::string> extra;
        if (db.driver == "vpopmail") {
            vstore::VpopmailSettings s;
            if (!vstore::VpopmailSettings::parse(db.words, db.names, &s, &error)) {
                problems.push_back(where + ": " + error);
                continue;
            }
            blocking = s.blocking;
            brokered = {vstore::BrokeredStore::Kind::Vpopmail, s.qmail_dir, s.vpopmail_dir, s.access.home_roots, 0};
            const bool mysql = s.backend == vstore::VpopmailSettings::Backend::Mysql;
            check = [s, mysql] { return vstore::VpopmailStore(s).startup_problems(!mysql, mysql && !s.mysql_limits); };
            vstore::VpopmailStore store(s);
            std::vector<vstore::vpopmail::AssignRecord> domains;
            if (store.real_domains(&domains, &error))
                for (const auto &d : domains)
                    if (d.uid < first_valid_uid) {
                        extra.push_back(where + ": domain " + d.real_domain + " belongs to uid " +
                                        std::to_string(d.uid) + ", below first_valid_uid = " +
                                        std::to_string(first_valid_uid) + ": Dovecot refuses its mail");
                        break;
                    }
            if (challenge && !mysql && db.kind == "passdb") {
                unsigned without = 0, users = 0;
                auto it = store.iterate();
                std::string name;
                while (it->next(&name, &error) == vstore::VpopmailStore::Iterator::Step::User) {
                    vstore::VpopmailAccount a;
                    auto d = store.decide({name, "imap", "", ""}, vstore::PasswordUse::Credentials, &a);
                    users++;
                    without += d.before.is_ok() && d.password.scheme != "PLAIN";
                }
                if (without > 0)
                    extra.push_back(users_without_clear(where, mechanisms, without, users));
            }
        } else {
            vstore::VmailmgrSettings s;
            if (!vstore::VmailmgrSettings::parse(db.words, db.names, &s, &error)) {
                problems.push_back(where + ": " + error);
                continue;
            }
            s.first_valid_uid = static_cast<uid_t>(first_valid_uid);
            blocking = s.blocking;
            brokered = {vstore::BrokeredStore::Kind::Vmailmgr, s.qmail_dir, s.config_dir, s.access.home_roots,
                        s.first_valid_uid};
            check = [s] { return vstore::VmailmgrStore(s).startup_problems(); };
            vstore::VmailmgrSettings all = s;
            all.first_valid_uid = 0;
            vstore::VmailmgrStore store(all);
            for (const auto &b : store.named_base_users(&error))
                if (b.uid < first_valid_uid)
                    extra.push_back(where + ": base user " + b.name + " has uid " + std::to_string(b.uid) +
                                    ", below first_valid_uid = " + std::to_string(first_valid_uid) +
                                    ": its users are unknown to the driver and Dovecot refuses its mail");
            if (challenge && db.kind == "passdb") {
                vstore::VmailmgrStore st(s);
                unsigned without = 0, users = 0;
                for (const auto &name : st.list_users(&error)) {
                    vstore::VmailmgrAccount a;
                    auto d = st.decide({name, "imap", "", ""}, time(nullptr), &a);
                    users++;
                    without += d.before.is_ok() && d.password.scheme != "PLAIN";
                }
                if (without > 0)
                    extra.push_back(users_without_clear(where, mechanisms, without, users));
            }
        }
        if (is24)
            blocking = db.use_worker == "yes";
        const std::string reader = blocking ? worker_user : auth_user;
        const std::string key = db.driver + " " + reader + " " + std::to_string(db.words.size());
        if (checked.insert(key).second) {
            // the auth process reads through its store broker (root, as the store's owners)
            const bool broker = !blocking && reader != "root";
            for (const std::string &p :
                 problems_as(reader, check, broker ? std::optional<vstore::BrokeredStore>(brokered) : std::nullopt))
                problems.push_back(where + ", read by the " +
                                   (blocking ? "auth workers" : broker ? "auth process (store broker)" : "auth process") +
                                   " as " + reader + ": " + p);
            problems.insert(problems.end(), extra.begin(), extra.end());
        }
    }
    if (!ours) {
        printf("vstore config-check: no passdb or userdb with driver vpopmail or vmailmgr\n");
        return 1;
    }
    if (!global("auth_username_chars", "x").empty())
        problems.push_back("auth_username_chars is set: Dovecot refuses logins such as user%domain and user/domain "
                           "(and characters vchkpw accepts) before the drivers see them; set auth_username_chars =");
    for (const std::string &p : problems)
        printf("%s\n", p.c_str());
    printf("vstore config-check: %zu problem(s)\n", problems.size());
    return problems.empty() ? kOk : 1;
}

}  // namespace vstore_cli
