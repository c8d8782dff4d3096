// Each reader below follows one libxcrypt 4.4.33 source file (named in its comment) step by
// step: it reads each cost number as libxcrypt does and marks the hash `rejected` where the
// method refuses it before any work. One reader per method feeds both the cap and the work
// figure.
#include "hash_cost.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace vstore {

namespace {

// libxcrypt's CRYPT_OUTPUT_SIZE: the output buffer every method checks its room against.
constexpr size_t kCryptOutputSize = 384;

// The hash as crypt_r() receives it: a C string, so it ends at the first NUL; reading past its
// end gives NUL, as reading a C string's terminator does.
class Setting {
public:
    explicit Setting(std::string_view hash) : s_(hash.substr(0, hash.find('\0'))) {}
    char at(size_t i) const { return i < s_.size() ? s_[i] : '\0'; }
    size_t size() const { return s_.size(); }
    bool has(size_t at, std::string_view text) const { return s_.size() >= at && s_.substr(at, text.size()) == text; }
    bool starts(std::string_view prefix) const { return has(0, prefix); }
    // the last c at or after `from`, npos if none
    size_t last(char c, size_t from) const
    {
        const size_t i = s_.rfind(c);
        return i != std::string_view::npos && i >= from ? i : std::string_view::npos;
    }

private:
    std::string_view s_;
};

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

// crypt's base-64 alphabet "./0-9A-Za-z" -> 0..63; 64 for anything else (libxcrypt's
// ascii_to_bin in crypt-des.c and atoi64 in alg-yescrypt-common.c read it alike).
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

bool is_itoa64(char c)
{
    return atoi64(c) < 64;
}

// crypt.c check_badsalt_chars(): a hash with a control byte, space, DEL, a byte >= 0x80 or one
// of !*:;\ is refused before its method is even chosen.
bool has_bad_salt_chars(const Setting &s)
{
    for (size_t i = 0; i < s.size(); i++) {
        const auto c = static_cast<unsigned char>(s.at(i));
        if (c <= 0x20 || c >= 0x7f || std::strchr("!*:;\\", c) != nullptr)
            return true;
    }
    return false;
}

// strtoul(s + at, &end, 10) as glibc does it on x86-64 (unsigned long is 64 bits). The bytes
// it could skip as white space never get here (has_bad_salt_chars).
struct Strtoul {
    uint64_t value = 0;
    size_t end = 0;         // where the number stopped; `at` when nothing was converted
    bool overflow = false;  // ERANGE: value is then ULONG_MAX
};

Strtoul parse_strtoul(const Setting &s, size_t at)
{
    Strtoul out;
    size_t i = at;
    const bool negative = s.at(i) == '-';
    if (s.at(i) == '+' || s.at(i) == '-')
        i++;
    const size_t digits = i;
    for (; is_digit(s.at(i)); i++) {
        const auto d = static_cast<uint64_t>(s.at(i) - '0');
        if (out.value > (UINT64_MAX - d) / 10)
            out.overflow = true;
        else
            out.value = out.value * 10 + d;
    }
    if (i == digits) {
        out.value = 0;
        out.end = at;
        return out;
    }
    out.end = i;
    if (out.overflow)
        out.value = UINT64_MAX;
    else if (negative)
        out.value = 0 - out.value;  // strtoul negates in unsigned arithmetic
    return out;
}

HashCost method(HashFamily family)
{
    HashCost c;
    c.family = family;
    return c;
}

// The method refuses the hash before any work, with what it read so far.
HashCost rejected(HashCost c)
{
    c.rejected = true;
    return c;
}

HashCost rejected(HashFamily family)
{
    return rejected(method(family));
}

// ---- the DES family: crypt-des.c

// bigcrypt (first in libxcrypt's table) or traditional DES: chosen for "" or a hash whose
// first two characters are DES salt characters. bigcrypt falls back to DES for a hash of at
// most 13 characters; a longer one hashes one DES block per 8 characters of the password.
HashCost read_des(const Setting &s)
{
    if (s.size() <= 13) {
        HashCost c = method(HashFamily::Des);
        return is_itoa64(s.at(0)) && is_itoa64(s.at(1)) ? c : rejected(c);
    }
    HashCost c = method(HashFamily::BigCrypt);
    c.des_blocks = static_cast<unsigned>(std::min<size_t>(16, (s.size() - 2) / 11));
    return c;
}

// BSDi extended DES "_CCCCSSSS": 24 bits of iterations, least significant character first.
HashCost read_bsdi(const Setting &s)
{
    if (s.size() < 9)
        return rejected(HashFamily::BsdiDes);
    HashCost c = method(HashFamily::BsdiDes);
    for (size_t i = 1; i < 5; i++) {
        const unsigned x = atoi64(s.at(i));
        if (x > 63)
            return rejected(HashFamily::BsdiDes);
        c.rounds |= static_cast<uint64_t>(x) << ((i - 1) * 6);
    }
    for (size_t i = 5; i < 9; i++)
        if (!is_itoa64(s.at(i)))
            return rejected(c);
    return c;
}

// ---- Sun MD5: crypt-sunmd5.c. "$md5$" or "$md5,", then optionally "rounds=N$"
// (no leading zero, N <= 2^32 - 1, run on top of 4096), then the salt up to '$' or the end.
HashCost read_sunmd5(const Setting &s)
{
    constexpr uint64_t kMaxRounds = 0xFFFFFFFFULL;
    HashCost c = method(HashFamily::SunMd5);
    if (s.at(4) != '$' && s.at(4) != ',')
        return rejected(c);
    size_t p = 5;
    if (s.has(p, "rounds=")) {
        p += 7;
        if (s.at(p) < '1' || s.at(p) > '9')
            return rejected(c);
        const Strtoul n = parse_strtoul(s, p);
        c.rounds = n.value;
        if (n.overflow || n.value > kMaxRounds || s.at(n.end) != '$')
            return rejected(c);
        p = n.end + 1;
    }
    while (is_itoa64(s.at(p)))
        p++;
    if (s.at(p) != '\0' && s.at(p) != '$')
        return rejected(c);
    if (s.at(p) == '$' && (s.at(p + 1) == '$' || s.at(p + 1) == '\0'))
        p++;
    constexpr size_t kBareOutput = 22;
    if (kCryptOutputSize < p + kBareOutput + 2)
        return rejected(c);
    return c;
}

// ---- NetBSD sha1crypt: crypt-pbkdf1-sha1.c. "$sha1$", the iterations as
// strtoul() reads them (a sign, leading zeros and overflow to ULONG_MAX all pass), '$', a
// non-empty salt.
HashCost read_sha1crypt(const Setting &s)
{
    HashCost c = method(HashFamily::Sha1Crypt);
    if (!s.starts("$sha1$"))
        return rejected(c);
    const Strtoul n = parse_strtoul(s, 6);
    c.rounds = n.value;
    if (s.at(n.end) != '$')
        return rejected(c);
    size_t salt_end = n.end + 1;
    while (is_itoa64(s.at(salt_end)))
        salt_end++;
    if (salt_end == n.end + 1 || (s.at(salt_end) != '\0' && s.at(salt_end) != '$'))
        return rejected(c);
    return c;
}

// ---- sha256/sha512-crypt: crypt-sha256.c, crypt-sha512.c. "rounds=N$" (no
// leading zero, 1000 <= N <= 999999999) or 5000 rounds; the salt always passes once the bad
// characters are out.
HashCost read_sha_crypt(const Setting &s, HashFamily family)
{
    constexpr uint64_t kDefaultRounds = 5000, kMinRounds = 1000, kMaxRounds = 999999999;
    HashCost c = method(family);
    if (!s.has(3, "rounds=")) {
        c.rounds = kDefaultRounds;
        return c;
    }
    constexpr size_t num = 10;
    if (s.at(num) < '1' || s.at(num) > '9')
        return rejected(c);
    const Strtoul n = parse_strtoul(s, num);
    c.rounds = n.value;
    if (s.at(n.end) != '$' || n.value < kMinRounds || n.value > kMaxRounds || n.overflow)
        return rejected(c);
    return c;
}

// ---- bcrypt: crypt-bcrypt.c BF_crypt(). "$2?$CC$" with CC 04..31, then 22
// salt characters of its own alphabet (the same characters as crypt's, in another order).
HashCost read_bcrypt(const Setting &s)
{
    HashCost c = method(HashFamily::Bcrypt);
    const char tens = s.at(4), ones = s.at(5);
    if (tens < '0' || tens > '3' || !is_digit(ones) || (tens == '3' && ones > '1') || s.at(6) != '$')
        return rejected(c);
    c.bcrypt_cost = static_cast<unsigned>(tens - '0') * 10 + static_cast<unsigned>(ones - '0');
    constexpr unsigned kMinCost = 4;  // BF_crypt's min count 16
    if (c.bcrypt_cost < kMinCost)
        return rejected(c);
    for (size_t i = 7; i < 7 + 22; i++)
        if (!is_itoa64(s.at(i)))
            return rejected(c);
    return c;
}

// ---- scrypt and yescrypt: crypt-scrypt.c, crypt-yescrypt.c,
// crypt-gost-yescrypt.c, alg-yescrypt-common.c yescrypt_r(), alg-yescrypt-opt.c
// yescrypt_kdf().

// alg-yescrypt-common.c decode64_uint32(): a variable-length number, in 32-bit arithmetic as
// there. Moves *p past it; false where libxcrypt fails.
bool decode64_uint32(const Setting &s, size_t *p, uint32_t min, uint32_t *out)
{
    uint32_t c = atoi64(s.at((*p)++));
    if (c > 63)
        return false;
    uint32_t v = min, start = 0, end = 47, chars = 1, bits = 0;
    while (c > end) {
        v += (end + 1 - start) << bits;
        start = end + 1;
        end = start + (62 - end) / 2;
        chars++;
        bits += 6;
    }
    v += (c - start) << bits;
    while (--chars) {
        c = atoi64(s.at((*p)++));
        if (c > 63)
            return false;
        bits -= 6;
        v += c << bits;
    }
    *out = v;
    return true;
}

// decode64_uint32_fixed(): $7$'s r and p, five characters of 6 bits, low first.
bool decode64_uint32_fixed30(const Setting &s, size_t *p, uint32_t *out)
{
    uint32_t v = 0;
    for (uint32_t bits = 0; bits < 30; bits += 6) {
        const uint32_t c = atoi64(s.at((*p)++));
        if (c > 63)
            return false;
        v |= c << bits;
    }
    *out = v;
    return true;
}

// decode64() on yescrypt's salt, [at, at + len): whole groups of 2 to 4 characters, at most 64
// bytes, no stray high bits; true when it reads all of them, as yescrypt_r() requires.
bool yescrypt_salt_decodes(const Setting &s, size_t at, size_t len)
{
    constexpr size_t kMaxBytes = 64;
    size_t pos = at, bytes = 0;
    const size_t end = at + len;
    while (pos < end) {
        uint32_t value = 0, bits = 0;
        while (pos < end && bits < 24) {
            const uint32_t c = atoi64(s.at(pos));
            if (c > 63)
                return false;  // decode64 stops here, short of the '$' yescrypt_r found
            pos++;
            value |= c << bits;
            bits += 6;
        }
        if (bits < 12)
            return false;
        for (;;) {
            if (bytes++ >= kMaxBytes)
                return false;
            value >>= 8;
            bits -= 8;
            if (bits < 8) {
                if (value != 0)
                    return false;
                break;
            }
        }
    }
    return true;
}

// yescrypt_kdf()'s checks, made before it allocates or mixes anything.
bool yescrypt_kdf_accepts(const HashCost &c)
{
    if (static_cast<uint64_t>(c.r) * c.p >= (1ULL << 30))
        return false;
    if (c.n_log2 > 32 || c.n_log2 < 2 || c.r < 1 || c.p < 1)  // N <= UINT32_MAX, N > 3
        return false;
    if (c.mode == MemoryHardMode::Classic && c.t != 0)
        return false;
    if (c.mode == MemoryHardMode::ReadWrite && ((1ULL << c.n_log2) / c.p) <= 3)
        return false;
    return true;
}

HashCost checked_by_kdf(const HashCost &c)
{
    return yescrypt_kdf_accepts(c) ? c : rejected(c);
}

// "$7$": N as one character (2^1..2^63), r and p as five characters each; the salt may hold
// only salt characters and '$' up to a '$' that ends it.
HashCost read_scrypt(const Setting &s)
{
    HashCost c = method(HashFamily::Scrypt);
    c.mode = MemoryHardMode::Classic;
    if (s.size() + 1 + 43 + 1 > kCryptOutputSize)
        return rejected(c);
    auto salt_char = [](char ch) { return is_itoa64(ch) || ch == '$'; };
    for (size_t i = 3 + 1 + 5 * 2; i < s.size(); i++)
        if (!salt_char(s.at(i))) {
            if (s.at(i - 1) == '$')
                break;
            return rejected(c);
        }
    const uint32_t n_log2 = atoi64(s.at(3));
    if (n_log2 < 1 || n_log2 > 63)
        return rejected(c);
    c.n_log2 = n_log2;
    size_t p = 4;
    uint32_t r = 0, lanes = 0;
    if (!decode64_uint32_fixed30(s, &p, &r) || !decode64_uint32_fixed30(s, &p, &lanes))
        return rejected(c);
    c.r = r;
    c.p = lanes;
    return checked_by_kdf(c);
}

// "$y$" / "$gy$" (gost-yescrypt hashes the same parameters): flavor, N, r, then optionally a
// bit set of p, t, g and NROM, then '$' and a salt that must decode. Each number is kept as
// soon as it is read (a 2^40 N is refused, though libxcrypt would reject it).
HashCost read_yescrypt(const Setting &s, size_t params, HashFamily family)
{
    constexpr uint32_t kRwDefaultFlavor = 47;  // YESCRYPT_RW | ROUNDS_6 | GATHER_4 | SIMPLE_2 | SBOX_12K
    HashCost c = method(family);
    c.p = 1;
    if (s.size() + 1 + 43 + 1 > kCryptOutputSize)
        return rejected(c);
    size_t p = params;
    uint32_t flavor = 0, have = 0;
    if (!decode64_uint32(s, &p, 0, &flavor))
        return rejected(c);
    if (flavor == 0)
        c.mode = MemoryHardMode::Classic;
    else if (flavor == 1)
        c.mode = MemoryHardMode::Worm;
    else if (flavor == kRwDefaultFlavor)
        c.mode = MemoryHardMode::ReadWrite;
    else
        return rejected(c);  // yescrypt_r or yescrypt_kdf fails every other flavour first
    if (family == HashFamily::Yescrypt && c.mode == MemoryHardMode::Classic)
        c.family = HashFamily::Scrypt;
    if (!decode64_uint32(s, &p, 1, &c.n_log2) || c.n_log2 > 63 || !decode64_uint32(s, &p, 1, &c.r))
        return rejected(c);
    if (s.at(p) != '$') {
        if (!decode64_uint32(s, &p, 1, &have))
            return rejected(c);
        if ((have & 1) != 0 && !decode64_uint32(s, &p, 2, &c.p))
            return rejected(c);
        if ((have & 2) != 0 && !decode64_uint32(s, &p, 1, &c.t))
            return rejected(c);
        // g (hash upgrades) and NROM (a ROM) are refused by yescrypt_kdf before any work
        if ((have & 4) != 0 || (have & 8) != 0)
            return rejected(c);
    }
    if (s.at(p++) != '$')
        return rejected(c);
    // the salt runs to the last '$' (strrchr), or to the end when there is none
    const size_t last_dollar = s.last('$', p);
    const size_t salt_len = (last_dollar == std::string_view::npos ? s.size() : last_dollar) - p;
    if (!yescrypt_salt_decodes(s, p, salt_len))
        return rejected(c);
    return checked_by_kdf(c);
}

// ---- the work figure, calibrated on an x86-64 core with crypt_r() (a short
// password): DES 5 us, MD5-crypt 100 us, Sun MD5 1.2 us a round, sha1crypt 0.55 us an
// iteration, sha256-crypt 0.29 and sha512-crypt 0.23 us a round, bcrypt 48 us * 2^cost, the
// memory-hard core 2.6 ms per MiB it mixes (scrypt N = 2^14, r = 32: 350 ms; yescrypt $y$j9T$:
// 55 ms).

uint64_t saturating(long double us)
{
    // 10^12 us, 11.6 days: above what any cap allows (bcrypt 31 is 10^11), and low enough that
    // the verification threads' sums of figures never overflow.
    constexpr long double kMost = 1e12L;
    return us >= kMost ? static_cast<uint64_t>(kMost) : static_cast<uint64_t>(us < 1 ? 1 : us);
}

// How many 128 * r byte blocks yescrypt's smix() mixes in all (alg-yescrypt-opt.c smix()),
// with yescrypt_kdf()'s pre-hash at N / 64 for large RW hashes.
long double memory_hard_blocks(const HashCost &c)
{
    const long double n = std::ldexp(1.0L, static_cast<int>(c.n_log2));
    const long double p = c.p, t = c.t;
    switch (c.mode) {
    case MemoryHardMode::Classic:
        return p * 2 * n;
    case MemoryHardMode::Worm: {
        long double loop = n;
        if (c.t == 1)
            loop = n * 1.5L;
        if (c.t > 0)
            loop *= t;
        return p * (n + loop);
    }
    case MemoryHardMode::ReadWrite: {
        const long double factor = c.t == 0 ? 1.0L / 3 : c.t == 1 ? 2.0L / 3 : t - 1;
        long double blocks = n * (1 + factor);
        if (n / p >= 0x100 && n / p * c.r >= 0x20000)
            blocks += n / 64 * (1 + 1.0L / 3);
        return blocks;
    }
    }
    return 0;
}

uint64_t work_us(const HashCost &c)
{
    if (c.rejected)
        return 1;
    switch (c.family) {
    case HashFamily::NotHashed:
        return 1;
    case HashFamily::Des:
        return 5;
    case HashFamily::BigCrypt:
        return 5 * std::max(1U, c.des_blocks);
    case HashFamily::BsdiDes:
        return saturating(2 + c.rounds * 0.11L);
    case HashFamily::Md5Crypt:
        return 100;
    case HashFamily::SunMd5:
        return saturating((4096.0L + c.rounds) * 1.2L);
    case HashFamily::Sha1Crypt:
        return saturating(2 + c.rounds * 1.22L);  // 24000 iterations: 29 ms
    case HashFamily::Sha256Crypt:
        return saturating(20 + c.rounds * 0.29L);
    case HashFamily::Sha512Crypt:
        return saturating(20 + c.rounds * 0.23L);
    case HashFamily::Bcrypt:
        return saturating(150 + std::ldexp(48.0L, static_cast<int>(c.bcrypt_cost)));
    case HashFamily::Nt:
        return 2;
    case HashFamily::Scrypt:
    case HashFamily::Yescrypt:
    case HashFamily::GostYescrypt: {
        const long double mib_mixed = memory_hard_blocks(c) * 128 * c.r / (1 << 20);
        return saturating(50 + mib_mixed * 2600);
    }
    }
    return saturating(1e12L);
}

HashCost read_method(const Setting &s)
{
    // crypt.c get_hashfn(): libxcrypt's table in hashes.conf's order, first match wins.
    if (s.starts("$y$"))
        return read_yescrypt(s, 3, HashFamily::Yescrypt);
    if (s.starts("$gy$"))
        return read_yescrypt(s, 4, HashFamily::GostYescrypt);
    if (s.starts("$7$"))
        return read_scrypt(s);
    if (s.starts("$2b$") || s.starts("$2y$") || s.starts("$2a$") || s.starts("$2x$"))
        return read_bcrypt(s);
    if (s.starts("$6$"))
        return read_sha_crypt(s, HashFamily::Sha512Crypt);
    if (s.starts("$5$"))
        return read_sha_crypt(s, HashFamily::Sha256Crypt);
    if (s.starts("$sha1"))
        return read_sha1crypt(s);
    if (s.starts("$md5"))
        return read_sunmd5(s);
    if (s.starts("$1$"))
        return method(HashFamily::Md5Crypt);
    if (s.starts("$3$"))
        return method(HashFamily::Nt);
    if (s.starts("_"))
        return read_bsdi(s);
    if (s.size() == 0 || (is_itoa64(s.at(0)) && is_itoa64(s.at(1))))
        return read_des(s);
    return HashCost{};
}

// ---- the cap

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

const char *memory_hard_name(HashFamily family)
{
    return family == HashFamily::Scrypt ? "scrypt" : family == HashFamily::Yescrypt ? "yescrypt" : "gost-yescrypt";
}

// Memory: 128 * N * r bytes, times p where every lane runs over all of it (classic, WORM). RW
// lanes share it and only add an S-box each; t multiplies the time. Neither p (RW) nor t is
// written by any tool; both are held to a few.
std::optional<std::string> memory_hard_refusal(const HashCost &c, const HashCostLimits &l)
{
    constexpr uint32_t kMostLanesOrTime = 4;
    constexpr uint64_t kShownMost = UINT64_MAX >> 1;
    const uint32_t lanes = c.mode == MemoryHardMode::ReadWrite ? 1 : c.p;
    // N is read up to 2^63 (libxcrypt rejects past 2^32), r and p below 2^32: 128
    // * r * p fits in 71 bits, and times N in 128 bits unless it is far beyond
    // any cap.
    const unsigned __int128 block_bytes = static_cast<unsigned __int128>(128) * c.r * lanes;
    const bool beyond = c.n_log2 > 63 || (block_bytes >> (127 - c.n_log2)) != 0;
    const unsigned __int128 bytes = beyond ? 0 : block_bytes << c.n_log2;
    const unsigned __int128 mib = (bytes + (1 << 20) - 1) >> 20;
    if (beyond || mib > l.max_yescrypt_mib) {
        std::string what = std::string(memory_hard_name(c.family)) + " memory in MiB (N = 2^" +
                           std::to_string(c.n_log2) + ", r = " + std::to_string(c.r);
        if (lanes != 1)
            what += ", p = " + std::to_string(c.p) + " lanes over all of it";
        const uint64_t shown = beyond || mib > kShownMost ? kShownMost : static_cast<uint64_t>(mib);
        return too_costly(what + ")", shown, "max_yescrypt_mib", l.max_yescrypt_mib);
    }
    if ((c.mode == MemoryHardMode::ReadWrite && c.p > kMostLanesOrTime) || c.t > kMostLanesOrTime)
        return std::string("the stored ") + memory_hard_name(c.family) + " hash asks for p = " + std::to_string(c.p) +
               ", t = " + std::to_string(c.t) + " (at most " + std::to_string(kMostLanesOrTime) +
               " each are accepted; refused before hashing)";
    return std::nullopt;
}

std::optional<std::string> refusal(const HashCost &c, const HashCostLimits &l)
{
    switch (c.family) {
    case HashFamily::NotHashed:
    case HashFamily::Des:
    case HashFamily::BigCrypt:
    case HashFamily::Md5Crypt:
    case HashFamily::Nt:
        return std::nullopt;
    case HashFamily::BsdiDes:
        return rounds_refusal("BSDi DES iterations", c.rounds, l);
    case HashFamily::SunMd5:
        return rounds_refusal("Sun MD5 rounds", c.rounds, l);
    case HashFamily::Sha1Crypt:
        return rounds_refusal("sha1crypt rounds", c.rounds, l);
    case HashFamily::Sha256Crypt:
    case HashFamily::Sha512Crypt:
        return rounds_refusal("sha-crypt rounds", c.rounds, l);
    case HashFamily::Bcrypt:
        if (c.bcrypt_cost <= l.max_bcrypt_cost)
            return std::nullopt;
        return too_costly("bcrypt cost", c.bcrypt_cost, "max_bcrypt_cost", l.max_bcrypt_cost);
    case HashFamily::Scrypt:
    case HashFamily::Yescrypt:
    case HashFamily::GostYescrypt:
        return memory_hard_refusal(c, l);
    }
    return std::string("the stored hash is of a kind the cost cap cannot read "
                       "(refused before hashing)");
}

}  // namespace

HashCost read_hash_cost(std::string_view hash)
{
    const Setting s(hash);
    HashCost c = has_bad_salt_chars(s) ? HashCost{} : read_method(s);
    c.work_us = work_us(c);
    return c;
}

std::optional<std::string> hash_cost_refusal(const HashCost &cost, const HashCostLimits &limits)
{
    return refusal(cost, limits);
}

std::optional<std::string> hash_cost_refusal(std::string_view hash, const HashCostLimits &limits)
{
    return refusal(read_hash_cost(hash), limits);
}

uint64_t hash_work_us(const HashCost &cost, size_t password_len)
{
    return saturating(cost.work_us * (1.0L + static_cast<long double>(password_len) / 64));
}

uint64_t hash_work_us(std::string_view hash, size_t password_len)
{
    return hash_work_us(read_hash_cost(hash), password_len);
}

}  // namespace vstore
