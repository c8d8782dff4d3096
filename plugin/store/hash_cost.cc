#include "hash_cost.h"

namespace vstore {

namespace {

// crypt's base-64 alphabet: "./0-9A-Za-z" -> 0..63; 64 for anything else.
unsigned atoi64(char c)
{
    if (c == '.')
        return 0;
    if (c == '/')
        return 1;
    if (c >= '0' && c <= '9')
        return static_cast<unsigned>(c - '0') + 2;
    if (c >= 'A' && c <= 'Z')
        return static_cast<unsigned>(c - 'A') + 12;
    if (c >= 'a' && c <= 'z')
        return static_cast<unsigned>(c - 'a') + 38;
    return 64;
}

// yescrypt's variable-length number encoding (libxcrypt yescrypt-common.c decode64_uint32).
bool decode64_uint32(std::string_view *s, uint32_t min, uint64_t *out)
{
    if (s->empty())
        return false;
    unsigned c = atoi64(s->front());
    s->remove_prefix(1);
    if (c > 63)
        return false;
    uint64_t v = min;
    uint32_t start = 0, end = 47, chars = 1, bits = 0;
    while (c > end) {
        v += static_cast<uint64_t>(end + 1 - start) << bits;
        start = end + 1;
        end = start + (62 - end) / 2;
        chars++;
        bits += 6;
    }
    v += static_cast<uint64_t>(c - start) << bits;
    while (--chars) {
        if (s->empty())
            return false;
        c = atoi64(s->front());
        s->remove_prefix(1);
        if (c > 63)
            return false;
        bits -= 6;
        v += static_cast<uint64_t>(c) << bits;
    }
    *out = v;
    return true;
}

// Decimal digits at the start of s; false if none. Saturates far above any limit.
bool leading_number(std::string_view s, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++)
        v = v > 100000000000000ULL ? v : v * 10 + static_cast<uint64_t>(s[i] - '0');
    *out = v;
    return i > 0;
}

std::string too_costly(const std::string &what, uint64_t value, const char *setting, uint64_t limit)
{
    return "the stored hash asks for " + what + " " + std::to_string(value) + ", more than " + setting + "=" +
           std::to_string(limit) + " allows (refused before hashing)";
}

std::optional<std::string> rounds_refusal(const char *what, uint64_t rounds, const HashCostLimits &l)
{
    if (rounds <= l.max_crypt_rounds)
        return std::nullopt;
    return too_costly(what, rounds, "max_crypt_rounds", l.max_crypt_rounds);
}

std::optional<std::string> memory_refusal(const char *family, uint64_t n_log2, uint64_t r, const HashCostLimits &l)
{
    // 128 * N * r bytes, in MiB; anything past 2^40 MiB is simply too much.
    const uint64_t limit = l.max_yescrypt_mib;
    if (n_log2 >= 60 || r == 0 || r > (1ULL << 30))
        return too_costly(std::string(family) + " memory (MiB), N = 2^" + std::to_string(n_log2) + ", r = " +
                              std::to_string(r) + ":",
                          ~0ULL >> 1, "max_yescrypt_mib", limit);
    const unsigned __int128 bytes = static_cast<unsigned __int128>(128) * (1ULL << n_log2) * r;
    const uint64_t mib = static_cast<uint64_t>((bytes + (1 << 20) - 1) >> 20);
    if (mib <= limit)
        return std::nullopt;
    return too_costly(std::string(family) + " memory in MiB (N = 2^" + std::to_string(n_log2) + ", r = " +
                          std::to_string(r) + ")",
                      mib, "max_yescrypt_mib", limit);
}

std::optional<std::string> yescrypt_refusal(const char *family, std::string_view params, const HashCostLimits &l)
{
    uint64_t flavor = 0, n_log2 = 0, r = 0;
    if (!decode64_uint32(&params, 0, &flavor) || !decode64_uint32(&params, 1, &n_log2) ||
        !decode64_uint32(&params, 1, &r))
        return std::nullopt;  // malformed: crypt() refuses it without work
    if (auto why = memory_refusal(family, n_log2, r, l))
        return why;
    if (!params.empty() && params.front() != '$') {
        // Optional parameters (p, t, g, NROM) multiply the time; libxcrypt never writes them.
        uint64_t have = 0, p = 1, t = 0;
        if (!decode64_uint32(&params, 1, &have))
            return std::nullopt;
        if ((have & 1) != 0 && !decode64_uint32(&params, 2, &p))
            return std::nullopt;
        if ((have & 2) != 0 && !decode64_uint32(&params, 1, &t))
            return std::nullopt;
        if (p > 4 || t > 4)
            return std::string("the stored ") + family + " hash asks for p = " + std::to_string(p) + ", t = " +
                   std::to_string(t) + " (at most 4 each are accepted; refused before hashing)";
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> hash_cost_refusal(std::string_view hash, const HashCostLimits &l)
{
    auto starts = [&](std::string_view p) { return hash.substr(0, p.size()) == p; };
    if (starts("$5$rounds=") || starts("$6$rounds=")) {
        uint64_t rounds = 0;
        if (leading_number(hash.substr(10), &rounds))
            return rounds_refusal("sha-crypt rounds", rounds, l);
        return std::nullopt;
    }
    if (starts("$md5,rounds=")) {
        uint64_t rounds = 0;
        if (leading_number(hash.substr(12), &rounds))
            return rounds_refusal("Sun MD5 rounds", rounds, l);
        return std::nullopt;
    }
    if (starts("$sha1$")) {
        uint64_t rounds = 0;
        if (leading_number(hash.substr(6), &rounds))
            return rounds_refusal("sha1crypt rounds", rounds, l);
        return std::nullopt;
    }
    if (hash.size() >= 5 && hash[0] == '_') {
        // BSDi extended DES: 24 bits of iterations, least significant character first.
        uint64_t count = 0;
        for (int i = 4; i >= 1; i--) {
            unsigned c = atoi64(hash[static_cast<size_t>(i)]);
            if (c > 63)
                return std::nullopt;
            count = (count << 6) | c;
        }
        return rounds_refusal("BSDi DES iterations", count, l);
    }
    if (hash.size() >= 7 && hash[0] == '$' && hash[1] == '2' && hash[3] == '$') {
        uint64_t cost = 0;
        if (!leading_number(hash.substr(4, 2), &cost))
            return std::nullopt;
        if (cost <= l.max_bcrypt_cost)
            return std::nullopt;
        return too_costly("bcrypt cost", cost, "max_bcrypt_cost", l.max_bcrypt_cost);
    }
    if (starts("$y$"))
        return yescrypt_refusal("yescrypt", hash.substr(3), l);
    if (starts("$gy$"))
        return yescrypt_refusal("gost-yescrypt", hash.substr(4), l);
    if (starts("$7$") && hash.size() >= 14) {
        // scrypt: N = 2^(one character), then r in five characters of 6 bits, low first.
        const uint64_t n_log2 = atoi64(hash[3]);
        uint64_t r = 0;
        for (int i = 4; i >= 0; i--) {
            unsigned c = atoi64(hash[4 + static_cast<size_t>(i)]);
            if (c > 63)
                return std::nullopt;
            r = (r << 6) | c;
        }
        if (n_log2 > 63)
            return std::nullopt;
        return memory_refusal("scrypt", n_log2, r, l);
    }
    return std::nullopt;
}

uint64_t hash_work_us(std::string_view hash)
{
    // Placeholder until every form is read (issue: complete cost cap).
    (void)hash;
    return 1000;
}

}  // namespace vstore
