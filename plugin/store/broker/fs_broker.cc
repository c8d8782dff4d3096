#include "fs_broker.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "broker_server.h"
#include "broker_wire.h"
#include "fs_identity.h"

namespace vstore {
namespace fs_broker {

namespace {

using broker_wire::kMaxData;
using broker_wire::kMaxPath;
using broker_wire::Op;
using broker_wire::Reply;
using broker_wire::Request;
using broker_wire::receive_message;
using broker_wire::send_message;

constexpr int kReplyTimeoutMs = 10000;

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
        broker_server::run(pair[1], parent);
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
    const int err = call(Op::AddStore, nullptr, store.qmail_dir, broker_wire::encode_store_data(store),
                         broker_wire::encode_store_kind(store.kind), -1, &rp, nullptr, &msg);
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

// While the process is still root (the auth process's preinit: the start-up reads, such as
// vpopmail's etc/vpopmail.mysql, which the broker does not serve), it takes the owner's rights
// itself; once it gave up root, the broker's if it started one, else its own.
class ProcessFiles final : public FileAccess {
public:
    FsStatus lstat(const FsOwner *owner, const std::string &path, struct stat *st) override
    {
        return now().lstat(owner, path, st);
    }
    FsStatus open_read(const FsOwner *owner, const std::string &path, UniqueFd *fd) override
    {
        return now().open_read(owner, path, fd);
    }
    FsStatus statfs_type(const FsOwner *owner, const std::string &dir, unsigned long *type) override
    {
        return now().statfs_type(owner, dir, type);
    }
    FsStatus add_watch(const FsOwner *owner, int inotify_fd, const std::string &dir, uint32_t mask, int *wd) override
    {
        return now().add_watch(owner, inotify_fd, dir, mask, wd);
    }
    FsStatus replace_lastauth(const FsOwner &owner, const std::string &dir, const std::string &content) override
    {
        return now().replace_lastauth(owner, dir, content);
    }

private:
    static FileAccess &now()
    {
        if (can_switch_fs_identity())
            return owner_rights_files();
        return active() ? files() : own_rights_files();
    }
};

}  // namespace

FileAccess &files()
{
    static BrokerFiles broker_files;
    return broker_files;
}

FileAccess &process_files()
{
    static ProcessFiles process;
    return process;
}

void set_lost_handler(void (*handler)(const std::string &why)) { client()->on_lost = handler; }


}  // namespace fs_broker
}  // namespace vstore
