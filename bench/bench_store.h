// Synthetic vpopmail and vmailmgr stores for the benchmarks, written in the real formats
// (qmail-newu's users/cdb, vpopmail's vpasswd.cdb, vmailmgr 0.97 v2 records) with tinycdb.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace bench {

enum class Scheme { Md5, Sha512, Des };
Scheme parse_scheme(const std::string &s);
const char *scheme_name(Scheme s);

struct StoreSpec {
    std::string dir;       // everything goes below this directory
    size_t users = 1000;   // in all
    size_t domains = 1;
    Scheme scheme = Scheme::Md5;
    size_t hashed = 0;     // users 0..hashed-1 get their own real hash; the rest share one
                           // (hashing 1M SHA-512 passwords would take half an hour, and only
                           // the users a benchmark logs in with need a verifiable hash)
};

// Names and passwords of user i of a spec (global index over all domains).
std::string user_name(size_t i);
std::string domain_name(size_t d);
std::string password(size_t i);
size_t domain_of(const StoreSpec &s, size_t i);
std::string login(const StoreSpec &s, size_t i);

std::string crypt_password(const std::string &pw, Scheme scheme, unsigned seed);

// vpopmail: <dir>/qmail/users/cdb and <dir>/vpopmail/domains/<domain>/vpasswd.cdb.
void write_vpopmail(const StoreSpec &s);
// vmailmgr: <dir>/qmail/control/{locals,virtualdomains} and <dir>/home/<base>/passwd.cdb
// with base user "vb<NNNN>" for domain NNNN.
void write_vmailmgr(const StoreSpec &s);
std::string vmailmgr_base(size_t d);
// Dovecot passwd-file lines "user@domain:{CRYPT}hash:89:89::home::" for the same users.
void write_passwd_file(const StoreSpec &s, const std::string &path);

}  // namespace bench
