// Whose rights a store file is read with: the vpopmail uid of a domain, a vmailmgr base user.
#pragma once

#include <sys/types.h>

#include <string>

namespace vstore {

struct FsOwner {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string what;  // who this is, for messages: "domain example.com", "base user exorg"
};

}  // namespace vstore
