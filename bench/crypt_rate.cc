// Single-core crypt_r() verifications per second for a scheme: with nproc, the ceiling of
// what any authentication setup can reach on this machine.   crypt_rate md5|sha512|des SECONDS
#include <crypt.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench_store.h"

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const auto scheme = bench::parse_scheme(argv[1]);
    const double seconds = atof(argv[2]);
    const std::string hash = bench::crypt_password("Pw-1-bench", scheme, 99);
    struct crypt_data cd = {};
    size_t n = 0, ok = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    do {
        for (int i = 0; i < 16; i++, n++) {
            const char *h = crypt_r("Pw-1-bench", hash.c_str(), &cd);
            ok += h != nullptr && strcmp(h, hash.c_str()) == 0;
        }
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < seconds);
    printf("{\"scheme\": \"%s\", \"verifications\": %zu, \"ok\": %s, \"per_s\": %.1f}\n", argv[1], n,
           ok == n ? "true" : "false", n / elapsed);
    return ok == n ? 0 : 1;
}
