// The work a crypt(3) hash asks for, read from its settings before anything is hashed. A
// store's writer can set any hash, and crypt() spends what the hash says: sha512-crypt with
// rounds=999999999 holds a thread for minutes, Sun MD5 takes up to 4e9 rounds (hours), scrypt
// with a large p runs its memory-hard loop p times, yescrypt with a large N allocates
// gigabytes.
//
// The reading mirrors libxcrypt 4.4.33 (Debian 12; unchanged up to 4.4.38, Debian 13): the
// same prefixes in the same order, the same number parsers (strtoul() with its sign and
// overflow, yescrypt's variable-length base-64 numbers in 32 bits), the same rejections. Every
// cost is the number libxcrypt will use; a cost over its cap is refused even where libxcrypt
// would reject the hash for another reason, so that no refusal depends on that. What libxcrypt
// rejects before any work with no cost over a cap is let through: crypt() rejects it, as
// before.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vstore {

// The caps; their defaults are in settings_list.h.
struct HashCostLimits {
    // sha256/sha512-crypt rounds= (vpopmail and crypt() write 5000), and the iteration counts
    // of Sun MD5 (its rounds=, run on top of a fixed 4096), NetBSD sha1crypt and BSDi extended
    // DES.
    uint64_t max_crypt_rounds = 0;
    // bcrypt's log2 cost (tools write 5 to 12).
    unsigned max_bcrypt_cost = 0;
    // yescrypt / gost-yescrypt / scrypt memory, 128 * N * r bytes, times p for scrypt and the
    // other non-RW flavours, whose p lanes each run the whole memory-hard loop (scrypt's own
    // count of its cost). libxcrypt's default $y$j9T$ is 16 MiB; Dovecot's default vsz_limit
    // for a process is 256 MiB.
    uint64_t max_yescrypt_mib = 0;
};

// Which of libxcrypt's hashing methods would run for a hash.
enum class HashFamily {
    NotHashed,  // no method takes it
    Des,
    BigCrypt,
    BsdiDes,
    Md5Crypt,
    SunMd5,
    Sha1Crypt,
    Sha256Crypt,
    Sha512Crypt,
    Bcrypt,
    Nt,
    Scrypt,  // $7$, and $y$ in its classic-scrypt flavour
    Yescrypt,
    GostYescrypt,
};

// How yescrypt's core runs: classic scrypt, the "write once, read many" or the default
// read-write flavour. Classic and WORM run every one of p lanes over the whole memory; RW
// splits the memory between its lanes.
enum class MemoryHardMode { Classic, Worm, ReadWrite };

// What one hash asks for, read once; the cap and the work figure are both built on it.
struct HashCost {
    // The method libxcrypt chooses by the hash's prefix; NotHashed when none (an unknown
    // prefix, a byte crypt(5) does not allow).
    HashFamily family = HashFamily::NotHashed;
    // The method refuses the hash before any work. It may have read a cost first (a number
    // past its range, a bcrypt cost before a bad salt): the cap still holds the hash to that
    // cost, so that no refusal depends on libxcrypt rejecting the hash later.
    bool rejected = false;
    // The count the hash states: sha-crypt rounds (5000 when none is written), sha1crypt
    // iterations, BSDi DES iterations, Sun MD5's rounds= (0 when none is written).
    uint64_t rounds = 0;
    unsigned bcrypt_cost = 0;
    // scrypt/yescrypt: N = 2^n_log2 blocks of 128 * r bytes, p lanes, t the time factor.
    MemoryHardMode mode = MemoryHardMode::Classic;
    uint32_t n_log2 = 0, r = 0, p = 0, t = 0;
    // bigcrypt: DES blocks (one per 8 characters of the password; read from the hash's length)
    unsigned des_blocks = 0;
    // A rough CPU time of one verification in microseconds (see hash_work_us).
    uint64_t work_us = 0;
};

// Reads `hash` as libxcrypt's crypt_r() will: up to its first NUL, as a C string.
HashCost read_hash_cost(std::string_view hash);

// Why hashing against `hash` would cost more than `limits` allow, naming the setting that
// decides; nullopt when it may be hashed: hashes whose costs are within the caps, hashes that
// carry no cost parameter, and ones libxcrypt rejects without work before stating a cost over
// a cap (crypt() itself then rejects them).
std::optional<std::string> hash_cost_refusal(std::string_view hash, const HashCostLimits &limits);
// The same for a hash already read (a login reads its hash once for the cap and the figure).
std::optional<std::string> hash_cost_refusal(const HashCost &cost, const HashCostLimits &limits);

// A rough figure of the CPU time one verification against `hash` takes, in microseconds on a
// current x86-64 core (calibrated with libxcrypt 4.4.33's crypt_r(), a short password), read
// from the same parameters as the cap (before any hashing); right within a factor of about 2,
// and monotonic in every cost parameter. For scheduling only: the verification threads keep
// slow hashes of one owner from holding every thread. A hash libxcrypt refuses without work
// counts 1; no form is left unread (every other one is one of libxcrypt's methods, read as it
// reads it). Saturates at 10^12 (11.6 days), above what any cap allows.
//
// password_len: the length of the password to be checked, chosen by the client. The round
// functions of sha-crypt, MD5-crypt, Sun MD5 and sha1crypt hash the password at every round,
// so a 511-byte one (libxcrypt's limit) costs up to about 9 times what a short one does:
// every figure is scaled by 1 + password_len / 64, which keeps a cheap hash cheap for the
// passwords people type and never lets a long one make a slow hash look cheap (bcrypt, DES,
// scrypt and yescrypt, which read the password once or only 8 or 72 bytes of it, are only
// overestimated).
uint64_t hash_work_us(std::string_view hash, size_t password_len = 0);
uint64_t hash_work_us(const HashCost &cost, size_t password_len);

}  // namespace vstore
