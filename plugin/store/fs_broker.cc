#include "fs_broker.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "broker_policy.h"
#include "vmailmgr_paths.h"

namespace vstore {
namespace fs_broker {

namespace {

enum class Op : uint32_t { AddStore = 1, Seal, Lstat, Open, Statfs, Watch, Lastauth };

constexpr size_t kMaxPath = 4096;
constexpr size_t kMaxData = 1024;
constexpr int kReplyTimeoutMs = 10000;

struct Request {
    uint32_t seq;
    Op op;
    uint32_t uid, gid;
    uint32_t mask;  // Watch: the inotify mask; AddStore: the store kind
    uint32_t path_len, data_len;
};

struct Reply {
    uint32_t seq;
    int32_t err;
    struct stat st;
    uint64_t fs_type;
    int32_t wd;
    uint32_t msg_len;
};

// ---- both sides: one message, with at most one descriptor ----

bool send_message(int sock, const void *head, size_t head_len, const std::string &a, const std::string &b, int fd)
{
    struct iovec iov[3] = {{const_cast<void *>(head), head_len},
                           {const_cast<char *>(a.data()), a.size()},
                           {const_cast<char *>(b.data()), b.size()}};
    struct msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = 3;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (fd >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t n;
    do
        n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(head_len + a.size() + b.size());
}

// Receives one message into buf; *fd gets a passed descriptor (or stays invalid). -1 on an
// error or end of file, else the length.
ssize_t receive_message(int sock, std::vector<char> *buf, UniqueFd *fd, int flags)
{
    struct iovec iov = {buf->data(), buf->size()};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n;
    do
        n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
    while (n < 0 && errno == EINTR);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n >= 0 && c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            // a sender could pass several: keep the first, close the rest
            const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int received;
                std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                if (i == 0 && !*fd)
                    *fd = UniqueFd(received);
                else
                    ::close(received);
            }
        }
    }
    if (n >= 0 && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0)
        return -1;
    return n <= 0 ? -1 : n;
}

// ---- the broker ----

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

fs_broker::BaseUserLookup g_base_user_lookup = nullptr;

bool system_base_user(const std::string &name, fs_broker::BaseUserEntry *out)
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
    const fs_broker::BaseUserLookup lookup = g_base_user_lookup != nullptr ? g_base_user_lookup : system_base_user;
    std::set<std::string> served;
    for (const std::string &prefix : broker_policy::virtualdomains_prefixes(vd)) {
        // the base user the prefix leads to, as the store resolves it (right to left)
        fs_broker::BaseUserEntry base;
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
        // path: qmail_dir; data: dir, first_valid_uid, home_roots..., NUL-separated
        std::vector<std::string> fields;
        size_t start = 0;
        for (size_t end; (end = data.find('\0', start)) != std::string::npos; start = end + 1)
            fields.push_back(data.substr(start, end - start));
        fields.push_back(data.substr(start));
        if (sealed_ || rq.mask > 1 || fields.size() < 2 || fields[0].empty())
            return EPERM;
        BrokeredStore s;
        s.kind = rq.mask == 0 ? BrokeredStore::Kind::Vpopmail : BrokeredStore::Kind::Vmailmgr;
        s.qmail_dir = path;
        s.dir = fields[0];
        s.first_valid_uid = static_cast<uid_t>(std::strtoul(fields[1].c_str(), nullptr, 10));
        s.home_roots.assign(fields.begin() + 2, fields.end());
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

[[noreturn]] void broker_main(int sock, pid_t parent)
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

// ---- the auth process's side ----

struct Client {
    std::mutex lock;
    UniqueFd sock;
    pid_t pid = -1;
    uint32_t seq = 0;
    bool lost = false;
    unsigned users = 0;  // modules that registered a store and may look up in this process
    void (*on_lost)(const std::string &why) = nullptr;
};

Client *client()
{
    static Client c;  // the module's life: the broker serves this process until it exits
    return &c;
}

int exchange(Op op, const FsOwner *owner, const std::string &path, const std::string &data, uint32_t mask, int fd_out,
         Reply *rp, UniqueFd *fd_in, std::string *msg)
{
    Client *c = client();
    if (!c->sock || c->lost)
        return ENOTCONN;
    if (path.size() > kMaxPath || data.size() > kMaxData)
        return ENAMETOOLONG;
    Request rq = {};
    rq.seq = ++c->seq;
    rq.op = op;
    rq.uid = owner != nullptr ? owner->uid : 0;
    rq.gid = owner != nullptr ? owner->gid : 0;
    rq.mask = mask;
    rq.path_len = static_cast<uint32_t>(path.size());
    rq.data_len = static_cast<uint32_t>(data.size());
    if (!send_message(c->sock.get(), &rq, sizeof(rq), path, data, fd_out)) {
        c->lost = true;
        return ENOTCONN;
    }
    std::vector<char> buf(sizeof(Reply) + kMaxData);
    for (;;) {
        struct pollfd p = {c->sock.get(), POLLIN, 0};
        int r;
        do
            r = ::poll(&p, 1, kReplyTimeoutMs);
        while (r < 0 && errno == EINTR);
        UniqueFd received;
        const ssize_t n = r == 1 ? receive_message(c->sock.get(), &buf, &received, 0) : -1;
        if (n < static_cast<ssize_t>(sizeof(Reply))) {
            // silent for 10 s (a hung file system), or gone: a broker that answers late would
            // answer the wrong question, so it is not asked again
            c->lost = true;
            return ENOTCONN;
        }
        std::memcpy(rp, buf.data(), sizeof(Reply));
        if (rp->seq != rq.seq)
            continue;
        if (msg != nullptr && rp->msg_len > 0 && sizeof(Reply) + rp->msg_len <= static_cast<size_t>(n))
            msg->assign(buf.data() + sizeof(Reply), rp->msg_len);
        if (fd_in != nullptr)
            *fd_in = std::move(received);
        return rp->err;
    }
}

int call(Op op, const FsOwner *owner, const std::string &path, const std::string &data, uint32_t mask, int fd_out,
         Reply *rp, UniqueFd *fd_in, std::string *msg)
{
    Client *c = client();
    std::string refusal;
    int err;
    bool newly_lost;
    {
        std::lock_guard<std::mutex> hold(c->lock);
        const bool was_lost = c->lost;
        err = exchange(op, owner, path, data, mask, fd_out, rp, fd_in, &refusal);
        newly_lost = c->lost && !was_lost;
    }
    if (msg != nullptr)
        *msg = std::move(refusal);
    if (newly_lost && c->on_lost != nullptr)
        c->on_lost("the store broker (pid " + std::to_string(c->pid) + ") is gone or did not answer within " +
                   std::to_string(kReplyTimeoutMs / 1000) + " s");
    return err;
}

}  // namespace

bool wanted()
{
    if (::geteuid() != 0)
        return false;
    const char *uid = std::getenv("RESTRICT_SETUID");
    if (uid == nullptr || *uid == '\0')
        return false;
    char *end = nullptr;
    const unsigned long v = std::strtoul(uid, &end, 10);
    return *end == '\0' && v != 0;
}

bool start(std::string *error)
{
    Client *c = client();
    std::lock_guard<std::mutex> hold(c->lock);
    if (c->sock)
        return !c->lost;
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
        *error = std::string("socketpair() failed: ") + std::strerror(errno);
        return false;
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        *error = std::string("fork() failed: ") + std::strerror(errno);
        ::close(pair[0]);
        ::close(pair[1]);
        return false;
    }
    if (pid == 0) {
        ::close(pair[0]);
        broker_main(pair[1], parent);
    }
    ::close(pair[1]);
    c->sock = UniqueFd(pair[0]);
    c->pid = pid;
    return true;
}

bool active()
{
    Client *c = client();
    return static_cast<bool>(c->sock);
}

pid_t pid() { return client()->pid; }

bool add_store(const BrokeredStore &store, std::string *error)
{
    Reply rp;
    std::string msg;
    std::string data = store.dir + '\0' + std::to_string(store.first_valid_uid);
    for (const std::string &root : store.home_roots)
        data += '\0' + root;
    const int err = call(Op::AddStore, nullptr, store.qmail_dir, data,
                         store.kind == BrokeredStore::Kind::Vpopmail ? 0 : 1, -1, &rp, nullptr, &msg);
    if (err == 0)
        client()->users++;
    if (err != 0)
        *error = "the store broker did not take the store: " + (msg.empty() ? std::string(std::strerror(err)) : msg);
    return err == 0;
}

void release()
{
    Client *c = client();
    std::lock_guard<std::mutex> hold(c->lock);
    if (c->users > 0 && --c->users == 0 && c->sock) {
        c->sock = UniqueFd();  // the broker ends at end of file
        c->lost = true;
    }
}

void seal()
{
    if (!active())
        return;
    Reply rp;
    call(Op::Seal, nullptr, std::string(), std::string(), 0, -1, &rp, nullptr, nullptr);
}

namespace {

// What a brokered call's answer says beyond its errno: the broker's refusal, or that it is gone.
FsStatus status(int err, std::string refusal)
{
    if (err == ENOTCONN)
        return FsStatus{err, "the store broker (pid " + std::to_string(pid()) + ") is gone or did not answer"};
    return FsStatus{err, err == EPERM ? std::move(refusal) : std::string()};
}

// Every call with an owner goes to the broker; one without (root's files that anyone may
// read, such as users/cdb) is made here, with the auth process's own rights.
class BrokerFiles final : public FileAccess {
public:
    FsStatus lstat(const FsOwner *owner, const std::string &path, struct stat *st) override
    {
        if (owner == nullptr)
            return own_rights_files().lstat(nullptr, path, st);
        Reply rp;
        std::string msg;
        const int err = call(Op::Lstat, owner, path, std::string(), 0, -1, &rp, nullptr, &msg);
        if (err == 0)
            *st = rp.st;
        return status(err, std::move(msg));
    }
    FsStatus open_read(const FsOwner *owner, const std::string &path, UniqueFd *fd) override
    {
        if (owner == nullptr)
            return own_rights_files().open_read(nullptr, path, fd);
        Reply rp;
        std::string msg;
        const int err = call(Op::Open, owner, path, std::string(), 0, -1, &rp, fd, &msg);
        if (err == 0 && !*fd)
            return FsStatus{EIO, std::string()};
        return status(err, std::move(msg));
    }
    FsStatus statfs_type(const FsOwner *owner, const std::string &dir, unsigned long *type) override
    {
        if (owner == nullptr)
            return own_rights_files().statfs_type(nullptr, dir, type);
        Reply rp;
        std::string msg;
        const int err = call(Op::Statfs, owner, dir, std::string(), 0, -1, &rp, nullptr, &msg);
        if (err == 0)
            *type = static_cast<unsigned long>(rp.fs_type);
        return status(err, std::move(msg));
    }
    FsStatus add_watch(const FsOwner *owner, int inotify_fd, const std::string &dir, uint32_t mask, int *wd) override
    {
        if (owner == nullptr)
            return own_rights_files().add_watch(nullptr, inotify_fd, dir, mask, wd);
        Reply rp;
        std::string msg;
        const int err = call(Op::Watch, owner, dir, std::string(), mask, inotify_fd, &rp, nullptr, &msg);
        if (err == 0)
            *wd = rp.wd;
        return status(err, std::move(msg));
    }
    FsStatus replace_lastauth(const FsOwner &owner, const std::string &dir, const std::string &content) override
    {
        Reply rp;
        std::string msg;
        const int err = call(Op::Lastauth, &owner, dir, content, 0, -1, &rp, nullptr, &msg);
        if (err == 0)
            return FsStatus();
        // the broker's own words (a refusal, the write's failure), else the errno's
        return FsStatus{err, msg.empty() ? status(err, std::string()).message("write lastauth in", dir) : msg};
    }
};

}  // namespace

FileAccess &files()
{
    static BrokerFiles broker_files;
    return broker_files;
}

void set_lost_handler(void (*handler)(const std::string &why)) { client()->on_lost = handler; }

void set_base_user_lookup(BaseUserLookup lookup) { g_base_user_lookup = lookup; }

}  // namespace fs_broker
}  // namespace vstore
