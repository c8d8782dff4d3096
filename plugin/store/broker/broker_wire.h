// The store broker's wire (fs_broker.h): one SOCK_SEQPACKET message per request and per
// reply, a fixed header then the path and the data, with at most one descriptor passed
// (SCM_RIGHTS). Both sides link this and nothing else of each other's; neither trusts a
// length it did not check.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "broker_policy.h"
#include "file_util.h"

namespace vstore {
namespace broker_wire {

enum class Op : uint32_t { AddStore = 1, Seal, Lstat, Open, Statfs, Watch, Lastauth };

constexpr size_t kMaxPath = 4096;
constexpr size_t kMaxData = 1024;

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


// One message: head, then a and b, and fd when it is >= 0. false unless all of it was sent.
bool send_message(int sock, const void *head, size_t head_len, const std::string &a, const std::string &b, int fd);

// Receives one message into buf; *fd gets a passed descriptor (or stays invalid). -1 on an
// error, end of file or a truncated message, else the length.
ssize_t receive_message(int sock, std::vector<char> *buf, UniqueFd *fd, int flags);

// AddStore's fields: the path is qmail_dir; the data, dir, first_valid_uid and home_roots,
// NUL-separated; the mask, the kind. decode_store() is false for anything else.
std::string encode_store_data(const BrokeredStore &store);
uint32_t encode_store_kind(BrokeredStore::Kind kind);
bool decode_store(uint32_t kind, const std::string &qmail_dir, const std::string &data, BrokeredStore *out);

}  // namespace broker_wire
}  // namespace vstore
