#include "broker_server.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "broker_policy.h"
#include "broker_wire.h"
#include "file_access.h"
#include "file_util.h"
#include "vmailmgr_paths.h"

// glibc before 2.32 (Debian 11 has 2.31) names no SYS_close_range; the kernel headers (5.9 and
// later) number the call. A kernel without it answers ENOSYS and run() closes one fd at a time.
#if !defined(SYS_close_range) && defined(__NR_close_range)
#define SYS_close_range __NR_close_range
#endif

namespace vstore {
namespace broker_server {

namespace {

using broker_wire::kMaxData;
using broker_wire::kMaxPath;
using broker_wire::Op;
using broker_wire::Reply;
using broker_wire::Request;
using broker_wire::receive_message;
using broker_wire::send_message;

// Root's files that decide whom the broker serves, as they were when it last read them: a
// change of any (a rename over it, a rewrite, a new owner or mode) has the broker read them
// again before it answers the next request.
struct RootFileState {
    int err = 0;
    FileStamp stamp;
    uid_t uid = 0;
    gid_t gid = 0;
    mode_t mode = 0;

    static RootFileState of(const std::string &path)
    {
        RootFileState s;
        struct stat st;
        if (::lstat(path.c_str(), &st) < 0) {
            s.err = errno;
            return s;
        }
        s.stamp = FileStamp::of(st);
        s.uid = st.st_uid;
        s.gid = st.st_gid;
        s.mode = st.st_mode;
        return s;
    }
    bool operator==(const RootFileState &o) const
    {
        return err == o.err && stamp == o.stamp && uid == o.uid && gid == o.gid && mode == o.mode;
    }
};

class Server {
public:
    explicit Server(int sock) : sock_(sock) {}
    void run();

private:
    int handle(const Request &rq, const std::string &path, const std::string &data, int passed_fd, Reply *rp,
               UniqueFd *out_fd, std::string *msg);
    bool allowed(Op op, uint32_t uid, uint32_t gid, const std::string &path, std::string *msg);
    bool allowed_by_areas(broker_policy::Access access, uint32_t uid, uint32_t gid, const std::string &path,
                          std::string *why);
    bool names_the_store(const BrokerArea &area, const std::string &store_name);
    void refresh_areas();
    void read_areas();
    void read_vpopmail_areas(const BrokeredStore &s);
    void read_vmailmgr_areas(const BrokeredStore &s);
    std::optional<std::string> read_roots_file(const std::string &path, size_t max_bytes, std::string *content);
    void note_root_file(const std::string &path);

    int sock_;
    bool sealed_ = false;
    std::vector<BrokeredStore> stores_;
    std::vector<BrokerArea> areas_;
    std::string areas_problem_;  // why a store serves nothing
    time_t areas_read_ = 0;
    bool areas_stale_ = true;
    std::vector<std::pair<std::string, RootFileState>> root_files_;  // as read_areas() found them
};

// The broker acts between requests, and reads users/cdb and virtualdomains, as nobody.
constexpr uid_t kRestingId = 65534;

void rest()
{
    ::setfsuid(kRestingId);
    ::setfsgid(kRestingId);
}

BaseUserLookup g_base_user_lookup = nullptr;

bool system_base_user(const std::string &name, BaseUserEntry *out)
{
    struct passwd pw, *res = nullptr;
    std::vector<char> buf(16384);
    if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &res) != 0 || res == nullptr)
        return false;
    *out = {res->pw_uid, res->pw_gid, res->pw_dir == nullptr ? "" : res->pw_dir};
    return true;
}

void Server::run()
{
    const pid_t parent = ::getppid();
    std::vector<char> buf(sizeof(Request) + kMaxPath + kMaxData + 1);
    for (;;) {
        UniqueFd passed;
        const ssize_t n = receive_message(sock_, &buf, &passed, 0);
        if (n < 0)
            return;  // the auth process is gone
        Request rq;
        if (static_cast<size_t>(n) < sizeof(rq))
            return;
        std::memcpy(&rq, buf.data(), sizeof(rq));
        if (rq.path_len > kMaxPath || rq.data_len > kMaxData ||
            static_cast<size_t>(n) != sizeof(rq) + rq.path_len + rq.data_len)
            return;  // not our client
        const std::string path(buf.data() + sizeof(rq), rq.path_len);
        const std::string data(buf.data() + sizeof(rq) + rq.path_len, rq.data_len);
        Reply rp = {};
        rp.seq = rq.seq;
        UniqueFd out;
        std::string msg;
        try {
            rp.err = handle(rq, path, data, passed.get(), &rp, &out, &msg);
        } catch (...) {
            rp.err = EIO;
            msg = "the store broker failed";
        }
        rest();
        // a change of fsuid clears the parent-death signal: set it again
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)
            return;
        if (msg.size() > kMaxData)
            msg.resize(kMaxData);
        rp.msg_len = static_cast<uint32_t>(msg.size());
        if (!send_message(sock_, &rp, sizeof(rp), msg, std::string(), out.get()))
            return;
    }
}

std::string directory_of(const std::string &path)
{
    const size_t slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// A file that decides whom the broker serves must be root's, and so must its directory,
// neither writable by group or others: else its writer could name any uid and gid.
std::optional<std::string> not_roots(const std::string &path)
{
    for (const std::string &p : {path, directory_of(path)}) {
        struct stat st;
        if (::lstat(p.c_str(), &st) < 0)
            return errno_message("stat", p, errno);
        if (st.st_uid != 0 || (st.st_mode & 022) != 0)
            return p + " is not root's alone (uid " + std::to_string(st.st_uid) + ", mode " +
                   std::to_string(st.st_mode & 07777) + "): the store broker takes no owners from it";
    }
    return std::nullopt;
}

void Server::note_root_file(const std::string &path) { root_files_.emplace_back(path, RootFileState::of(path)); }

// Root's file whole (at most max_bytes), when it and its directory are root's alone; the
// reason it is not taken otherwise. Missing: nullopt with an empty *content.
std::optional<std::string> Server::read_roots_file(const std::string &path, size_t max_bytes, std::string *content)
{
    note_root_file(path);
    note_root_file(directory_of(path));
    content->clear();
    struct stat st;
    if (::lstat(path.c_str(), &st) < 0 && errno == ENOENT)
        return std::nullopt;
    if (auto why = not_roots(path))
        return why;
    ReadResult r = read_file(path, max_bytes);
    if (r.status == ReadStatus::Error)
        return r.error;
    *content = std::move(r.content);
    return std::nullopt;
}

// Lists that root's files give: users/cdb's domains (qmail-newu writes it 0644), the owner of
// vpopmail_dir.
constexpr size_t kMaxUsersCdb = 256u << 20;
constexpr size_t kMaxControlFile = 16u << 20;
constexpr size_t kMaxSettingFile = 4096;

void Server::read_vpopmail_areas(const BrokeredStore &s)
{
    const std::string users_cdb = join_path(s.qmail_dir, "users/cdb");
    std::string cdb;
    if (auto why = read_roots_file(users_cdb, kMaxUsersCdb, &cdb)) {
        areas_problem_ = *why;
        return;
    }
    std::vector<broker_policy::AssignedDomain> domains;
    std::string error;
    if (!cdb.empty() && !broker_policy::assigned_domains(cdb, &domains, &error))
        areas_problem_ = users_cdb + ": " + error;
    // a root-owned vpopmail_dir is root's to write: its etc/ is read as the process
    std::optional<FsOwner> dir_owner;
    struct stat st;
    note_root_file(s.dir);
    if (::stat(s.dir.c_str(), &st) == 0 && st.st_uid != 0 && st.st_gid != 0)
        dir_owner = FsOwner{st.st_uid, st.st_gid, "the owner of " + s.dir};
    for (BrokerArea &a : broker_policy::vpopmail_areas(domains, s.dir, dir_owner, s.home_roots))
        areas_.push_back(std::move(a));
}

void Server::read_vmailmgr_areas(const BrokeredStore &s)
{
    namespace vp = vmailmgr_paths;
    std::string qmail_dir = s.qmail_dir;
    if (qmail_dir.empty()) {
        // vmailmgr's qmail-root setting, root's file in its configuration directory
        std::string text;
        if (auto why = read_roots_file(join_path(s.dir, "qmail-root"), kMaxSettingFile, &text)) {
            areas_problem_ = *why;
            return;
        }
        const std::string_view value = vp::setting_text(text);
        qmail_dir = value.empty() ? "/var/qmail" : std::string(value);
    }
    std::string vd;
    if (auto why = read_roots_file(join_path(qmail_dir, "control/virtualdomains"), kMaxControlFile, &vd)) {
        areas_problem_ = *why;
        return;
    }
    note_root_file("/etc/passwd");  // homes and ids come from the passwd database
    const BaseUserLookup lookup = g_base_user_lookup != nullptr ? g_base_user_lookup : system_base_user;
    std::set<std::string> served;
    for (const std::string &prefix : broker_policy::virtualdomains_prefixes(vd)) {
        // the base user the prefix leads to, as the store resolves it (right to left)
        BaseUserEntry base;
        std::string name;
        const auto is_account = [&](const std::string &candidate) {
            name = candidate;
            return lookup(candidate, &base);
        };
        if (vp::find_base_user(prefix, is_account) == 0 ||
            !vp::base_user_served(base.uid, base.gid, base.home, s.first_valid_uid) ||
            broker_policy::path_refusal(base.home) || !served.insert(name).second)
            continue;
        areas_.push_back({FsOwner{base.uid, base.gid, "base user " + name}, BrokerArea::Kind::VmailmgrHome, base.home,
                          s.dir});
    }
}

// The areas of the registered stores, from files root writes (users/cdb, virtualdomains,
// the passwd database). The broker reads them as nobody, takes nothing from a file anyone
// but root could write, and parses no byte of a store owner's.
void Server::read_areas()
{
    areas_.clear();
    areas_problem_.clear();
    root_files_.clear();
    for (const BrokeredStore &s : stores_) {
        if (s.kind == BrokeredStore::Kind::Vpopmail)
            read_vpopmail_areas(s);
        else
            read_vmailmgr_areas(s);
    }
    areas_read_ = ::time(nullptr);
    // a file changed within a tick of this read could change again unseen: read it again
    areas_stale_ = false;
    for (const auto &[path, state] : root_files_)
        areas_stale_ = areas_stale_ || (state.err == 0 && state.stamp.recently_changed());
}

// At every request: a domain removed from users/cdb is refused from the first request after
// the change, not when a refusal happens to make the broker look again.
void Server::refresh_areas()
{
    bool changed = areas_stale_;
    for (const auto &[path, state] : root_files_)
        changed = changed || !(RootFileState::of(path) == state);
    if (changed)
        read_areas();
}

// Whether <home>/<store_name>.cdb is the file the driver opens: the owner's
// ~/.vmailmgr/password-file (read as the owner, a regular file, its first bytes only), else
// root's <config_dir>/password-file, else vmailmgr's default. Compared, never kept.
bool Server::names_the_store(const BrokerArea &area, const std::string &store_name)
{
    namespace vp = vmailmgr_paths;
    auto first_bytes = [](const FsOwner *reader, const std::string &path, bool *unreadable) -> std::optional<std::string> {
        UniqueFd fd;
        const int err = owner_rights_files().open_read(reader, path, &fd).err;
        struct stat st;
        if (err == ENOENT)
            return std::nullopt;
        if (err != 0 || ::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) {
            *unreadable = true;
            return std::nullopt;
        }
        std::string text(kMaxSettingFile, '\0');
        const ssize_t n = ::pread(fd.get(), text.data(), text.size(), 0);
        if (n < 0) {
            *unreadable = true;
            return std::nullopt;
        }
        text.resize(static_cast<size_t>(n));
        if (text.find('\n') == std::string::npos && st.st_size > static_cast<off_t>(text.size()))
            *unreadable = true;  // a first line longer than any file name
        return text;
    };
    bool unreadable = false;
    std::optional<std::string> owner_text;
    owner_text = first_bytes(&area.owner,
                             join_path(area.root, std::string(vp::kSettingsDir) + "/" +
                                                      std::string(vp::kPasswordFileSetting)),
                             &unreadable);
    rest();
    std::optional<std::string> global_text;
    const std::string global = join_path(area.config_dir, std::string(vp::kPasswordFileSetting));
    if (!area.config_dir.empty()) {
        global_text = first_bytes(nullptr, global, &unreadable);  // as nobody (rest())
        if (global_text && not_roots(global))
            return false;  // only root decides every base user's store name
    }
    if (unreadable)
        return false;
    auto view = [](const std::optional<std::string> &t) {
        return t ? std::optional<std::string_view>(*t) : std::optional<std::string_view>();
    };
    return broker_policy::password_file_matches(store_name, view(owner_text), view(global_text));
}

bool Server::allowed_by_areas(broker_policy::Access access, uint32_t uid, uint32_t gid, const std::string &path,
                              std::string *why)
{
    using Rule = broker_policy::Decision::Rule;
    for (const BrokerArea &a : areas_) {
        if (a.owner.uid != uid || a.owner.gid != gid)
            continue;
        const broker_policy::Decision d = broker_policy::decide(a, access, path);
        if (d.rule == Rule::Allowed)
            return true;
        if (d.rule == Rule::IfPasswordFile) {
            if (names_the_store(a, d.store_name))
                return true;
            *why = path + " is not the store ~/.vmailmgr/password-file names (nor the default " +
                   std::string(vmailmgr_paths::kDefaultPasswordFile) + ".cdb)";
        } else if (!d.reason.empty()) {
            *why = d.reason;
        }
    }
    return false;
}

broker_policy::Access access_of(Op op)
{
    using A = broker_policy::Access;
    switch (op) {
    case Op::Lstat: return A::Lstat;
    case Op::Open: return A::Open;
    case Op::Statfs: return A::Statfs;
    case Op::Watch: return A::Watch;
    default: return A::Lastauth;
    }
}

bool Server::allowed(Op op, uint32_t uid, uint32_t gid, const std::string &path, std::string *msg)
{
    if (auto why = broker_policy::path_refusal(path)) {
        *msg = "the store broker refuses " + *why;
        return false;
    }
    refresh_areas();
    std::string why;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (allowed_by_areas(access_of(op), uid, gid, path, &why))
            return true;
        // what root's files cannot show by a stamp (a passwd database that is not a file):
        // looked at again at most once a second, when a request is refused
        const time_t now = ::time(nullptr);
        if (attempt == 1 || now == areas_read_)
            break;
        read_areas();
    }
    *msg = "the store broker refuses " + path + " for uid " + std::to_string(uid) + " gid " + std::to_string(gid) +
           ": not a file of a store it serves as that owner" + (why.empty() ? std::string() : " (" + why + ")") +
           (areas_problem_.empty() ? std::string() : "; " + areas_problem_);
    return false;
}

// Lastauth holds the client's address, as vchkpw writes it.
bool address_text(const std::string &s)
{
    if (s.size() > 64)
        return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':'))
            return false;
    return true;
}

int Server::handle(const Request &rq, const std::string &path, const std::string &data, int passed_fd, Reply *rp,
                   UniqueFd *out_fd, std::string *msg)
{
    if (rq.op == Op::AddStore) {
        BrokeredStore s;
        if (sealed_ || !broker_wire::decode_store(rq.mask, path, data, &s))
            return EPERM;
        stores_.push_back(std::move(s));
        areas_stale_ = true;
        return 0;
    }
    sealed_ = true;
    if (rq.op == Op::Seal)
        return 0;
    if (rq.uid == 0 || rq.gid == 0 || !allowed(rq.op, rq.uid, rq.gid, path, msg)) {
        if (msg->empty())
            *msg = "the store broker acts for no uid or gid 0";
        return EPERM;
    }
    if (rq.op == Op::Lastauth && !address_text(data)) {
        *msg = "the store broker writes only an address to lastauth";
        return EPERM;
    }
    const FsOwner owner{rq.uid, rq.gid, "uid " + std::to_string(rq.uid)};
    // the same calls as a root auth worker's, with the owner's rights
    FileAccess &files = owner_rights_files();
    FsStatus s;
    switch (rq.op) {
    case Op::Lstat:
        s = files.lstat(&owner, path, &rp->st);
        break;
    case Op::Open: {
        s = files.open_read(&owner, path, out_fd);
        // a directory's descriptor would list it: the caller wants a file
        struct stat st;
        if (s.ok() && (::fstat(out_fd->get(), &st) < 0 || S_ISDIR(st.st_mode))) {
            *out_fd = UniqueFd();
            return EISDIR;
        }
        break;
    }
    case Op::Statfs: {
        unsigned long type = 0;
        s = files.statfs_type(&owner, path, &type);
        rp->fs_type = type;
        break;
    }
    case Op::Watch:
        if (passed_fd < 0)
            return EBADF;
        // only directory watches, and only on an inotify instance
        s = files.add_watch(&owner, passed_fd, path, rq.mask | IN_ONLYDIR, &rp->wd);
        break;
    case Op::Lastauth:
        s = files.replace_lastauth(owner, path, data);
        break;
    default:
        return EPERM;
    }
    // told beyond the errno: why the owner's rights could not be taken, or what the lastauth
    // write said
    *msg = std::move(s.detail);
    return s.err;
}

// Keeps CAP_SETUID and CAP_SETGID (setfsuid/setfsgid/setgroups per request) and nothing
// else: not CAP_DAC_OVERRIDE, so even as uid 0 the broker reads only what any user may
// (users/cdb, virtualdomains) and store files only as their owners.
bool keep_only_id_capabilities()
{
    // the bounding set first: dropping from it needs CAP_SETPCAP, which capset() removes
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
        if (cap != CAP_SETUID && cap != CAP_SETGID)
            ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {};
    const uint32_t keep = (1u << CAP_SETUID) | (1u << CAP_SETGID);
    data[0].effective = keep;
    data[0].permitted = keep;
    return ::syscall(SYS_capset, &hdr, data) == 0;
}

}  // namespace

void set_base_user_lookup(BaseUserLookup lookup) { g_base_user_lookup = lookup; }

[[noreturn]] void run(int sock, pid_t parent)
{
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
        _exit(0);
    ::prctl(PR_SET_NAME, "vstore-broker");
    // Nothing of the auth process but the socket: its listeners, logs and files stay there.
    const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3; fd++)
        if (fd != sock && null_fd >= 0)
            ::dup2(null_fd, fd);
    const int max_fd = static_cast<int>(::sysconf(_SC_OPEN_MAX));
    if (::syscall(SYS_close_range, 3u, static_cast<unsigned>(sock) - 1, 0u) != 0 && sock > 3)
        for (int fd = 3; fd < sock; fd++)
            ::close(fd);
    if (::syscall(SYS_close_range, static_cast<unsigned>(sock) + 1, ~0u, 0u) != 0)
        for (int fd = sock + 1; fd < max_fd; fd++)
            ::close(fd);
    sigset_t all;
    sigemptyset(&all);
    for (int sig = 1; sig < NSIG; sig++)
        ::signal(sig, sig == SIGPIPE ? SIG_IGN : SIG_DFL);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    ::prctl(PR_SET_DUMPABLE, 0);
    if (!keep_only_id_capabilities() || ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        _exit(1);
    // no group of root's, and nobody's file rights between requests
    if (::syscall(SYS_setgroups, 0, nullptr) != 0)
        _exit(1);
    rest();
    Server(sock).run();
    _exit(0);
}


}  // namespace broker_server
}  // namespace vstore
