// The store broker's privileged side (fs_broker.h): the process forked from the auth process
// while it is still root. It drops every capability but CAP_SETUID and CAP_SETGID, rests as
// nobody between requests, reads root's users/cdb and virtualdomains to learn whom it serves
// (broker_policy.h decides), and makes each allowed file call as the store's owner through
// owner_rights_files() (file_access.h). It links the wire, the policy and the file layer:
// no store class, record decoder, verdict or SQL code.
#pragma once

#include <sys/types.h>

#include <string>

namespace vstore {
namespace broker_server {

// How the broker finds a vmailmgr base user: getpwnam() unless a test sets another before
// the broker starts (it is a fork of this process; nothing can change it afterwards).
struct BaseUserEntry {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home;
};
using BaseUserLookup = bool (*)(const std::string &name, BaseUserEntry *out);
void set_base_user_lookup(BaseUserLookup lookup);

// The broker's life, in the child of fork(): serves requests on sock until the auth process
// (parent) is gone, then exits.
[[noreturn]] void run(int sock, pid_t parent);

}  // namespace broker_server
}  // namespace vstore
