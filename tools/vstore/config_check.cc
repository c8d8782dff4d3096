// vstore config-check: Dovecot's configuration (doveconf -n) against the drivers' own
// settings code and the stores, as the processes that will read them: one line per problem.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli.h"
#include "file_util.h"
#include "fs_broker.h"
#include "log_escape.h"
#include "subprocess.h"
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
    std::map<std::string, std::map<std::string, std::string>> services;  // service name -> its settings
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
        } else if (stack.size() == 1 && stack[0].rfind("service ", 0) == 0) {
            c.services[trimmed(stack[0].substr(8))][key] = value;
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

// How long a check may take and how much of it is shown: a store's owner decides what the
// child reads, so nothing it reports may make the root parent wait, grow or print raw bytes.
constexpr size_t kMaxDoveconfOutput = 4 << 20;
constexpr unsigned kDoveconfSeconds = 30;
constexpr size_t kMaxReport = 64 << 10;
constexpr size_t kMaxProblemBytes = 1024;
constexpr unsigned kCheckSeconds = 120;
constexpr unsigned long long kDefaultVszLimit = 256ULL << 20;  // Dovecot's default_vsz_limit

// ASan reserves terabytes of shadow memory: under it no address-space limit can hold (the
// test harness runs Dovecot itself with default_vsz_limit = 0 then).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSpaceLimit = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSpaceLimit = false;
#else
constexpr bool kAddressSpaceLimit = true;
#endif
#else
constexpr bool kAddressSpaceLimit = true;
#endif

// The process that will read a store, as the check becomes it.
struct Reader {
    std::string user;
    bool broker = false;                   // reads through a store broker (the auth process)
    unsigned long long vsz_limit = 0;      // its service's vsz_limit in bytes; 0: unlimited
    std::string describe;                  // "auth process (store broker)", ...
};

// Dovecot's size setting ("256 M", "1G", "0"); nullopt when it is not one.
std::optional<unsigned long long> parse_size(const std::string &value)
{
    size_t i = 0;
    unsigned long long n = 0;
    while (i < value.size() && isdigit(static_cast<unsigned char>(value[i])) && n < (1ULL << 60))
        n = n * 10 + static_cast<unsigned>(value[i++] - '0');
    if (i == 0)
        return std::nullopt;
    while (i < value.size() && value[i] == ' ')
        i++;
    const char unit = i < value.size() ? static_cast<char>(toupper(static_cast<unsigned char>(value[i]))) : 'B';
    const int shift = unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : unit == 'T' ? 40 : 0;
    return n > (~0ULL >> shift) ? ~0ULL : n << shift;
}

// The child's side: becomes the reader (starting a store broker first, as the drivers do in
// the auth process while it is still root), takes on its memory limit, and runs the check.
std::vector<std::string> check_as(const Reader &reader, const std::function<std::vector<std::string>()> &check,
                                  const std::optional<vstore::BrokeredStore> &brokered)
{
    struct passwd *pw = getpwnam(reader.user.c_str());
    std::string error;
    if (pw == nullptr)
        return {"there is no system user " + reader.user};
    if (brokered && pw->pw_uid != 0 && getuid() == 0 &&
        (!vstore::fs_broker::start(&error) || !vstore::fs_broker::add_store(*brokered, &error)))
        return {"cannot start the store broker: " + error};
    if (kAddressSpaceLimit && reader.vsz_limit != 0) {
        const struct rlimit as = {static_cast<rlim_t>(reader.vsz_limit), static_cast<rlim_t>(reader.vsz_limit)};
        if (setrlimit(RLIMIT_AS, &as) < 0)
            return {std::string("cannot set the reading process's vsz_limit: ") + strerror(errno)};
    }
    if (pw->pw_uid != 0 &&
        (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0))
        return {"cannot become " + reader.user + " to check (run vstore config-check as root)"};
    try {
        return check();
    } catch (const std::bad_alloc &) {
        return {"the store does not fit in the reading process's vsz_limit (" +
                std::to_string(reader.vsz_limit >> 20) + " MiB): its logins would fail"};
    } catch (const std::exception &e) {
        return {std::string("the check failed: ") + e.what()};
    }
}

// Each problem, then a NUL: the parent splits there and escapes what it shows.
int write_report(int fd, const std::vector<std::string> &problems)
{
    for (const std::string &p : problems) {
        const std::string record = p + '\0';
        for (size_t done = 0; done < record.size();) {
            const ssize_t n = write(fd, record.data() + done, record.size() - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return 1;
            done += static_cast<size_t>(n);
        }
    }
    return 0;
}

// One problem as the terminal shows it: cut to a bounded length, every byte that is not
// printable ASCII escaped (the text may quote a store's bytes; the child may be someone else's).
std::string shown(std::string_view text)
{
    const bool cut = text.size() > kMaxProblemBytes;
    return vstore::log_escape(text.substr(0, kMaxProblemBytes)) + (cut ? "..." : "");
}

// The store's problems as `reader` sees them: every store byte is read and decoded in a child
// that became the reader under its memory limit; the root parent only splits and escapes the
// bounded report.
std::vector<std::string> problems_as(const Reader &reader, const std::function<std::vector<std::string>()> &check,
                                     const std::optional<vstore::BrokeredStore> &brokered)
{
    const ChildResult r = run_in_child(
        [&](int fd) { return write_report(fd, check_as(reader, check, brokered)); }, kMaxReport, kCheckSeconds);
    std::vector<std::string> lines;
    for (size_t pos = 0; pos < r.output.size();) {
        const size_t end = std::min(r.output.find('\0', pos), r.output.size());
        lines.push_back(shown(std::string_view(r.output).substr(pos, end - pos)));
        pos = end + 1;
    }
    if (!r.exited_ok())
        lines.push_back("the check " + r.how_it_ended(kCheckSeconds));
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

// A challenge-response mechanism needs a clear password: the users that have none, and the
// ones that could not be read (a store fault: their logins fail whatever the mechanism).
struct ClearPasswords {
    unsigned users = 0, without = 0, faults = 0;
    std::string first_fault, listing_fault;

    template <class Decision>
    void add(const Decision &d)
    {
        users++;
        without += d.before.is_ok() && d.password.scheme != "PLAIN";
        if (d.before.verdict == vstore::Verdict::StoreFault && faults++ == 0)
            first_fault = d.before.reason;
    }

    void report(const std::string &mechanisms, std::vector<std::string> *out) const
    {
        if (without > 0)
            out->push_back("auth_mechanisms = " + mechanisms + " offers challenge-response, but " +
                           std::to_string(without) + " of " + std::to_string(users) +
                           " users have no clear password: clients that pick it cannot log them in");
        if (faults > 0)
            out->push_back(std::to_string(faults) + " of " + std::to_string(users) +
                           " users cannot be read (a store fault), the first: " + first_fault);
        if (!listing_fault.empty())
            out->push_back("the users cannot all be listed (a store fault): " + listing_fault);
    }
};

// What the configuration says: globals with Dovecot's defaults, and each service's reader.
class ConfigView {
public:
    explicit ConfigView(const DovecotConfig &conf) : conf_(conf) {}

    std::string global(const char *key, const char *dflt) const
    {
        auto it = conf_.global.find(key);
        return it == conf_.global.end() ? std::string(dflt) : it->second;
    }

    // A service's setting, or "" when doveconf -n shows none (the default).
    std::string service(const char *name, const char *key) const
    {
        auto s = conf_.services.find(name);
        if (s == conf_.services.end())
            return "";
        auto it = s->second.find(key);
        return it == s->second.end() ? "" : it->second;
    }

    std::string service_user(const char *name, const std::string &dflt) const
    {
        const std::string internal = global("default_internal_user", "dovecot");
        std::string u = service(name, "user");
        if (u.empty())
            u = dflt;
        return u == "$default_internal_user" || u == "$SET:default_internal_user" ? internal : u;
    }

    // The service's vsz_limit in bytes (its own, else default_vsz_limit); 0 is unlimited.
    unsigned long long vsz_limit(const char *name) const
    {
        const auto dflt = parse_size(global("default_vsz_limit", ""));
        const auto own = parse_size(service(name, "vsz_limit"));
        // (uoff_t)-1 is 2.3's "not set" for a service: default_vsz_limit applies
        if (own && *own != ~0ULL)
            return *own;
        return dflt ? *dflt : kDefaultVszLimit;
    }

private:
    const DovecotConfig &conf_;
};

// What the checks in the child need from the configuration besides the driver's settings.
struct CheckContext {
    unsigned long first_valid_uid = 500;
    std::string mechanisms;
    bool challenge = false;  // a challenge-response mechanism is offered
};

// The vpopmail store's problems, run in the child as the reader: start-up checks, domains
// below first_valid_uid and, with a challenge-response mechanism, users with no clear password.
std::vector<std::string> vpopmail_problems(const vstore::VpopmailSettings &s, const CheckContext &c, bool passdb)
{
    const bool mysql = s.backend == vstore::VpopmailSettings::Backend::Mysql;
    vstore::VpopmailStore store(s, vstore::fs_broker::process_files());
    std::vector<std::string> out = store.startup_problems(!mysql, mysql && !s.mysql_limits);
    std::string error;
    std::vector<vstore::vpopmail::AssignRecord> domains;
    if (store.real_domains(&domains, &error))
        for (const auto &d : domains)
            if (d.uid < c.first_valid_uid) {
                out.push_back("domain " + d.real_domain + " belongs to uid " + std::to_string(d.uid) +
                              ", below first_valid_uid = " + std::to_string(c.first_valid_uid) +
                              ": Dovecot refuses its mail");
                break;
            }
    if (c.challenge && !mysql && passdb) {
        ClearPasswords count;
        auto it = store.iterate();
        std::string name;
        vstore::VpopmailStore::Iterator::Step step;
        while ((step = it->next(&name, &error)) == vstore::VpopmailStore::Iterator::Step::User) {
            vstore::VpopmailAccount a;
            count.add(store.decide({name, "imap", "", ""}, vstore::PasswordUse::Credentials, &a));
        }
        if (step == vstore::VpopmailStore::Iterator::Step::Fault)
            count.listing_fault = error;
        count.report(c.mechanisms, &out);
    }
    return out;
}

// The same for a vmailmgr store: start-up checks, base users below first_valid_uid, clear
// passwords for a challenge-response mechanism.
std::vector<std::string> vmailmgr_problems(const vstore::VmailmgrSettings &s, const CheckContext &c, bool passdb)
{
    // the files as the drivers reach them: through the broker check_as() started, if any
    vstore::FileAccess &files = vstore::fs_broker::process_files();
    std::vector<std::string> out = vstore::VmailmgrStore(s, files).startup_problems();
    std::string error;
    vstore::VmailmgrSettings all = s;
    all.first_valid_uid = 0;
    for (const auto &b : vstore::VmailmgrStore(all, files).named_base_users(&error))
        if (b.uid < c.first_valid_uid)
            out.push_back("base user " + b.name + " has uid " + std::to_string(b.uid) + ", below first_valid_uid = " +
                          std::to_string(c.first_valid_uid) +
                          ": its users are unknown to the driver and Dovecot refuses its mail");
    if (c.challenge && passdb) {
        vstore::VmailmgrStore st(s, files);
        ClearPasswords count;
        for (const auto &name : st.list_users(&error)) {
            vstore::VmailmgrAccount a;
            count.add(st.decide({name, "imap", "", ""}, time(nullptr), &a));
        }
        count.listing_fault = error;
        count.report(c.mechanisms, &out);
    }
    return out;
}

// One passdb/userdb of our drivers: its settings parsed (in the parent: root's configuration,
// no store byte), and the check the child runs. False, with the reason, on bad settings.
struct DbCheck {
    bool blocking = true;
    vstore::BrokeredStore brokered;
    std::function<std::vector<std::string>()> run;
};

bool prepare_check(const Db &db, const CheckContext &c, DbCheck *out, std::string *error)
{
    const bool passdb = db.kind == "passdb";
    if (db.driver == "vpopmail") {
        vstore::VpopmailSettings s;
        if (!vstore::VpopmailSettings::parse(db.words, db.names, &s, error))
            return false;
        out->blocking = s.blocking;
        out->brokered = {vstore::BrokeredStore::Kind::Vpopmail, s.qmail_dir, s.vpopmail_dir, s.access.home_roots, 0};
        out->run = [s, c, passdb] { return vpopmail_problems(s, c, passdb); };
        return true;
    }
    vstore::VmailmgrSettings s;
    if (!vstore::VmailmgrSettings::parse(db.words, db.names, &s, error))
        return false;
    s.first_valid_uid = static_cast<uid_t>(c.first_valid_uid);
    out->blocking = s.blocking;
    out->brokered = {vstore::BrokeredStore::Kind::Vmailmgr, s.qmail_dir, s.config_dir, s.access.home_roots,
                     s.first_valid_uid};
    out->run = [s, c, passdb] { return vmailmgr_problems(s, c, passdb); };
    return true;
}

// The process that reads a store: the auth workers (blocking) or the auth process, which
// reads through its store broker unless it runs as root.
Reader reader_of(const ConfigView &view, bool blocking)
{
    Reader r;
    const char *service = blocking ? "auth-worker" : "auth";
    r.user = blocking ? view.service_user("auth-worker", "root")
                      : view.service_user("auth", view.global("default_internal_user", "dovecot"));
    r.broker = !blocking && r.user != "root";
    r.vsz_limit = view.vsz_limit(service);
    r.describe = blocking ? "auth workers" : r.broker ? "auth process (store broker)" : "auth process";
    return r;
}

// doveconf -n's text (of `path` when given), run with an argument vector; false after saying why.
bool read_doveconf(const std::vector<std::string> &words, std::string *text)
{
    std::vector<std::string> argv = {"doveconf", "-n"};
    if (!words.empty()) {
        const int fd = open(words[0].c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "vstore config-check: cannot read %s: %s\n", vstore::log_escape(words[0]).c_str(),
                    strerror(errno));
            return false;
        }
        close(fd);
        argv.insert(argv.end(), {"-c", words[0]});
    }
    const ChildResult r = run_program(argv, kMaxDoveconfOutput, kDoveconfSeconds);
    if (!r.exited_ok()) {
        fprintf(stderr, "vstore config-check: doveconf -n %s: %s\n", r.how_it_ended(kDoveconfSeconds).c_str(),
                vstore::log_escape(r.output.substr(0, 4096)).c_str());
        return false;
    }
    *text = r.output;
    return true;
}

}  // namespace

int cmd_config_check(const Options &o)
{
    if (o.words.size() > 1) {
        fprintf(stderr, "vstore config-check: at most one FILE (a dovecot.conf)\n");
        return kUsage;
    }
    std::string text;
    if (!read_doveconf(o.words, &text))
        return kTempFail;
    const DovecotConfig conf = parse_doveconf(text);
    const ConfigView view(conf);
    const bool is24 = text.find("dovecot_config_version") != std::string::npos;
    CheckContext context;
    context.first_valid_uid = std::stoul(view.global("first_valid_uid", "500"));
    context.mechanisms = view.global("auth_mechanisms", "plain");
    for (const char *mech : {"cram-md5", "digest-md5", "apop", "scram-sha-1", "scram-sha-256"})
        context.challenge = context.challenge || mentions(context.mechanisms, mech);
    std::vector<std::string> problems;
    bool ours = false;
    std::set<std::string> checked;
    for (const Db &db : conf.dbs) {
        if (db.driver != "vpopmail" && db.driver != "vmailmgr")
            continue;
        ours = true;
        const std::string where = db.kind + (db.name.empty() ? "" : " " + db.name) + " (driver " + db.driver + ")";
        std::string error;
        DbCheck check;
        if (!prepare_check(db, context, &check, &error)) {
            problems.push_back(where + ": " + error);
            continue;
        }
        const Reader reader = reader_of(view, is24 ? db.use_worker == "yes" : check.blocking);
        const std::string key = db.driver + " " + reader.user + " " + std::to_string(db.words.size());
        if (!checked.insert(key).second)
            continue;
        const auto brokered = reader.broker ? std::optional<vstore::BrokeredStore>(check.brokered) : std::nullopt;
        for (const std::string &p : problems_as(reader, check.run, brokered))
            problems.push_back(where + ", read by the " + reader.describe + " as " + reader.user + ": " + p);
    }
    if (!ours) {
        printf("vstore config-check: no passdb or userdb with driver vpopmail or vmailmgr\n");
        return 1;
    }
    if (!view.global("auth_username_chars", "x").empty())
        problems.push_back("auth_username_chars is set: Dovecot refuses logins such as user%domain and user/domain "
                           "(and characters vchkpw accepts) before the drivers see them; set auth_username_chars =");
    for (const std::string &p : problems)
        printf("%s\n", p.c_str());
    printf("vstore config-check: %zu problem(s)\n", problems.size());
    return problems.empty() ? kOk : 1;
}

}  // namespace vstore_cli
