// The work a crypt(3) hash asks for, read from its settings before anything is hashed. A
// store's writer can set any hash, and crypt() spends what the hash says: sha512-crypt with
// rounds=999999999 holds a thread for minutes, yescrypt with a large N allocates gigabytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vstore {

// The caps; their defaults are in settings_list.h.
struct HashCostLimits {
    // sha256/sha512-crypt rounds= (vpopmail and crypt() write 5000), and the iteration
    // counts of Sun MD5, NetBSD sha1crypt and BSDi extended DES.
    uint64_t max_crypt_rounds = 0;
    // bcrypt's log2 cost (tools write 5 to 12).
    unsigned max_bcrypt_cost = 0;
    // yescrypt / gost-yescrypt / scrypt memory, 128 * N * r bytes (libxcrypt's default
    // $y$j9T$ is 16 MiB; Dovecot's default vsz_limit for a process is 256 MiB).
    uint64_t max_yescrypt_mib = 0;
};

// Why hashing against `hash` would cost more than `limits` allow, naming the setting that
// decides; nullopt when it may be hashed (including hashes that carry no cost parameter, and
// malformed ones, which crypt() itself rejects).
std::optional<std::string> hash_cost_refusal(std::string_view hash, const HashCostLimits &limits);

// A rough figure of the CPU time one verification against `hash` takes, in microseconds on
// a current x86-64 core, read from the same parameters as the cap (before any hashing). For
// scheduling only: the verification threads keep slow hashes of one owner from holding every
// thread. A form it cannot read counts as slow.
uint64_t hash_work_us(std::string_view hash);

}  // namespace vstore
