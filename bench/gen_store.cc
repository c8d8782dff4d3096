// gen_store vpopmail|vmailmgr|passwd-file DIR USERS DOMAINS SCHEME HASHED [PASSWD_FILE]
// Writes a synthetic store (see bench_store.h) and prints the logins file it used.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#include "bench_store.h"

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: gen_store vpopmail|vmailmgr|passwd-file DIR USERS DOMAINS md5|sha512|des HASHED [FILE]\n");
        return 2;
    }
    try {
        bench::StoreSpec s;
        const std::string kind = argv[1];
        s.dir = argv[2];
        s.users = std::strtoull(argv[3], nullptr, 10);
        s.domains = std::strtoull(argv[4], nullptr, 10);
        s.scheme = bench::parse_scheme(argv[5]);
        s.hashed = std::strtoull(argv[6], nullptr, 10);
        if (s.domains == 0 || s.users < s.domains)
            throw std::runtime_error("need 1 <= DOMAINS <= USERS");
        if (kind == "vpopmail")
            bench::write_vpopmail(s);
        else if (kind == "vmailmgr")
            bench::write_vmailmgr(s);
        else if (kind == "passwd-file" && argc > 7)
            bench::write_passwd_file(s, argv[7]);
        else
            throw std::runtime_error("unknown kind " + kind);
    } catch (const std::exception &e) {
        fprintf(stderr, "gen_store: %s\n", e.what());
        return 1;
    }
    return 0;
}
