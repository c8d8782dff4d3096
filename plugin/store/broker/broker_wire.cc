#include "broker_wire.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace vstore {
namespace broker_wire {

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

std::string encode_store_data(const BrokeredStore &store)
{
    std::string data = store.dir + '\0' + std::to_string(store.first_valid_uid);
    for (const std::string &root : store.home_roots)
        data += '\0' + root;
    return data;
}

uint32_t encode_store_kind(BrokeredStore::Kind kind) { return kind == BrokeredStore::Kind::Vpopmail ? 0 : 1; }

bool decode_store(uint32_t kind, const std::string &qmail_dir, const std::string &data, BrokeredStore *out)
{
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t end; (end = data.find('\0', start)) != std::string::npos; start = end + 1)
        fields.push_back(data.substr(start, end - start));
    fields.push_back(data.substr(start));
    if (kind > 1 || fields.size() < 2 || fields[0].empty())
        return false;
    out->kind = kind == 0 ? BrokeredStore::Kind::Vpopmail : BrokeredStore::Kind::Vmailmgr;
    out->qmail_dir = qmail_dir;
    out->dir = fields[0];
    out->first_valid_uid = static_cast<uid_t>(std::strtoul(fields[1].c_str(), nullptr, 10));
    out->home_roots.assign(fields.begin() + 2, fields.end());
    return true;
}

}  // namespace broker_wire
}  // namespace vstore
