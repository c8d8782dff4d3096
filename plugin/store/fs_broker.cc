#include "fs_broker.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "vmailmgr_store.h"
#include "vpopmail_store.h"

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

class Server {
public:
    explicit Server(int sock) : sock_(sock) {}
    void run();

private:
    int handle(const Request &rq, const std::string &path, const std::string &data, int passed_fd, Reply *rp,
               UniqueFd *out_fd, std::string *msg);
    bool serves(uint32_t uid, uint32_t gid);

    int sock_;
    bool sealed_ = false;
    std::vector<BrokeredStore> stores_;
    std::set<std::pair<uint32_t, uint32_t>> owners_;
    time_t owners_read_ = 0;
};

void Server::run()
{
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
        if (msg.size() > kMaxData)
            msg.resize(kMaxData);
        rp.msg_len = static_cast<uint32_t>(msg.size());
        if (!send_message(sock_, &rp, sizeof(rp), msg, std::string(), out.get()))
            return;
    }
}

// The owners of the registered stores, from files root writes (users/cdb, virtualdomains,
// the passwd database), read again at most once a second when a request names another.
bool Server::serves(uint32_t uid, uint32_t gid)
{
    if (uid == 0 || gid == 0)
        return false;
    if (owners_.count({uid, gid}) != 0)
        return true;
    const time_t now = ::time(nullptr);
    if (now == owners_read_)
        return false;
    owners_read_ = now;
    owners_.clear();
    for (const BrokeredStore &s : stores_) {
        std::vector<FsOwner> owners;
        if (s.kind == BrokeredStore::Kind::Vpopmail) {
            VpopmailSettings settings;
            settings.qmail_dir = s.qmail_dir;
            settings.vpopmail_dir = s.dir;
            owners = VpopmailStore(settings).owners();
        } else {
            VmailmgrSettings settings;
            settings.qmail_dir = s.qmail_dir;
            settings.config_dir = s.dir;
            owners = VmailmgrStore(settings).owners();
        }
        for (const FsOwner &o : owners)
            if (o.uid != 0 && o.gid != 0)
                owners_.insert({o.uid, o.gid});
    }
    return owners_.count({uid, gid}) != 0;
}

int Server::handle(const Request &rq, const std::string &path, const std::string &data, int passed_fd, Reply *rp,
                   UniqueFd *out_fd, std::string *msg)
{
    if (rq.op == Op::AddStore) {
        if (sealed_ || rq.mask > 1 || data.empty())
            return EPERM;
        BrokeredStore s;
        s.kind = rq.mask == 0 ? BrokeredStore::Kind::Vpopmail : BrokeredStore::Kind::Vmailmgr;
        s.qmail_dir = path;
        s.dir = data;
        stores_.push_back(std::move(s));
        owners_read_ = 0;
        return 0;
    }
    sealed_ = true;
    if (rq.op == Op::Seal)
        return 0;
    if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) {
        *msg = "the store broker refuses a path that is not absolute";
        return EPERM;
    }
    if (!serves(rq.uid, rq.gid)) {
        *msg = "the store broker serves no store owner uid " + std::to_string(rq.uid) + " gid " + std::to_string(rq.gid);
        return EPERM;
    }
    const FsOwner owner{rq.uid, rq.gid, "uid " + std::to_string(rq.uid)};
    ScopedFsIdentity as_owner(owner);
    if (!as_owner.ok()) {
        *msg = as_owner.error();
        return EPERM;
    }
    switch (rq.op) {
    case Op::Lstat:
        return ::lstat(path.c_str(), &rp->st) == 0 ? 0 : errno;
    case Op::Open:
        *out_fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
        return *out_fd ? 0 : errno;
    case Op::Statfs: {
        struct statfs fs;
        if (::statfs(path.c_str(), &fs) < 0)
            return errno;
        rp->fs_type = static_cast<uint64_t>(fs.f_type);
        return 0;
    }
    case Op::Watch: {
        if (passed_fd < 0)
            return EBADF;
        // only directory watches, and only on an inotify instance
        rp->wd = ::inotify_add_watch(passed_fd, path.c_str(), rq.mask | IN_ONLYDIR);
        return rp->wd < 0 ? errno : 0;
    }
    case Op::Lastauth:
        return replace_file_in_dir(path, "lastauth", data, msg) ? 0 : EIO;
    default:
        return EPERM;
    }
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
    void (*on_lost)(const std::string &why) = nullptr;
};

Client *client()
{
    static Client c;  // the module's life: the broker serves this process until it exits
    return &c;
}

// What the last brokered call on this thread said, for errno_message().
thread_local bool tl_brokered = false;
thread_local std::string tl_refusal;

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
    tl_brokered = true;
    tl_refusal = err == EPERM ? refusal : std::string();
    if (msg != nullptr)
        *msg = refusal;
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
    const int err = call(Op::AddStore, nullptr, store.qmail_dir, store.dir,
                         store.kind == BrokeredStore::Kind::Vpopmail ? 0 : 1, -1, &rp, nullptr, &msg);
    if (err != 0)
        *error = "the store broker did not take the store: " + (msg.empty() ? std::string(std::strerror(err)) : msg);
    return err == 0;
}

void seal()
{
    if (!active())
        return;
    Reply rp;
    call(Op::Seal, nullptr, std::string(), std::string(), 0, -1, &rp, nullptr, nullptr);
}

int lstat(const FsOwner &owner, const std::string &path, struct stat *st)
{
    Reply rp;
    const int err = call(Op::Lstat, &owner, path, std::string(), 0, -1, &rp, nullptr, nullptr);
    if (err == 0)
        *st = rp.st;
    return err;
}

int open_read(const FsOwner &owner, const std::string &path, UniqueFd *fd)
{
    Reply rp;
    const int err = call(Op::Open, &owner, path, std::string(), 0, -1, &rp, fd, nullptr);
    if (err == 0 && !*fd)
        return EIO;
    return err;
}

int statfs_type(const FsOwner &owner, const std::string &dir, unsigned long *type)
{
    Reply rp;
    const int err = call(Op::Statfs, &owner, dir, std::string(), 0, -1, &rp, nullptr, nullptr);
    if (err == 0)
        *type = static_cast<unsigned long>(rp.fs_type);
    return err;
}

int add_watch(const FsOwner &owner, int inotify_fd, const std::string &dir, uint32_t mask, int *wd)
{
    Reply rp;
    const int err = call(Op::Watch, &owner, dir, std::string(), mask, inotify_fd, &rp, nullptr, nullptr);
    if (err == 0)
        *wd = rp.wd;
    return err;
}

int replace_lastauth(const FsOwner &owner, const std::string &dir, const std::string &content, std::string *error)
{
    Reply rp;
    std::string msg;
    const int err = call(Op::Lastauth, &owner, dir, content, 0, -1, &rp, nullptr, &msg);
    if (err != 0)
        *error = msg.empty() ? errno_message("write lastauth in", dir, err) : msg;
    return err;
}

void set_lost_handler(void (*handler)(const std::string &why)) { client()->on_lost = handler; }

void note_local_call() { tl_brokered = false; }

std::string explain(int err)
{
    if (!tl_brokered)
        return std::string();
    if (err == ENOTCONN)
        return "the store broker (pid " + std::to_string(pid()) + ") is gone or did not answer";
    if (err == EPERM && !tl_refusal.empty())
        return tl_refusal;
    return std::string();
}

}  // namespace fs_broker
}  // namespace vstore
