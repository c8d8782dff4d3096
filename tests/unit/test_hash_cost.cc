// The cost cap on every hash form libxcrypt hashes, and the work figure the verification
// threads schedule by. Every row is also checked against libxcrypt itself wherever hashing it
// is cheap: a hash read as rejected must be one crypt_r() refuses, and any other one must
// hash.
#include <crypt.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "hash_cost.h"
#include "test_support.h"
#include "vpopmail_settings.h"

using namespace vstore;

namespace {

const char kItoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// ---- hash builders, as libxcrypt's own encoders write the parameters

// alg-yescrypt-common.c encode64_uint32(): yescrypt's variable-length numbers.
std::string y64(uint32_t value, uint32_t min)
{
    uint32_t src = value - min, start = 0, end = 47, chars = 1, bits = 0;
    for (;;) {
        const uint32_t count = (end + 1 - start) << bits;
        if (src < count)
            break;
        start = end + 1;
        end = start + (62 - end) / 2;
        src -= count;
        chars++;
        bits += 6;
    }
    std::string out(1, kItoa64[start + (src >> bits)]);
    while (--chars) {
        bits -= 6;
        out += kItoa64[(src >> bits) & 0x3f];
    }
    return out;
}

// Fixed-width base 64, least significant first: $7$'s r and p (5 characters), BSDi's count
// (4).
std::string fixed64(uint32_t value, int chars)
{
    std::string out;
    for (int i = 0; i < chars; i++, value >>= 6)
        out += kItoa64[value & 0x3f];
    return out;
}

std::string scrypt(unsigned n_log2, uint32_t r, uint32_t p)
{
    return std::string("$7$") + kItoa64[n_log2] + fixed64(r, 5) + fixed64(p, 5) + "abcdefghijklmnop$";
}

// $y$: flavor 47 is the read-write default, 0 classic scrypt, 1 WORM.
std::string yescrypt(unsigned n_log2, uint32_t r, uint32_t p = 1, uint32_t t = 0, uint32_t flavor = 47,
                     const char *prefix = "$y$")
{
    std::string h = prefix + y64(flavor, 0) + y64(n_log2, 1) + y64(r, 1);
    const uint32_t have = (p != 1 ? 1 : 0) | (t != 0 ? 2 : 0);
    if (have != 0) {
        h += y64(have, 1);
        if (p != 1)
            h += y64(p, 2);
        if (t != 0)
            h += y64(t, 1);
    }
    return h + "$abcdefghijklmnop$";
}

std::string bsdi(uint32_t count)
{
    return "_" + fixed64(count, 4) + "salt";
}

std::string rounds(const char *prefix, uint64_t n, const char *rest = "$abcdefgh$")
{
    return prefix + std::to_string(n) + rest;
}

// ---- libxcrypt's own verdict

// Whether crypt_r() hashes `hash` (any output but a failure token).
bool libxcrypt_hashes(const std::string &hash)
{
    static thread_local crypt_data data{};
    const char *out = crypt_r("password", hash.c_str(), &data);
    return out != nullptr && out[0] != '*';
}

constexpr uint64_t kCheapUs = 30000;  // rows up to this are hashed for real

// What the reading said of the hashes crypt_r() was run on.
struct Agreement {
    int hashed = 0, rejected = 0, not_run = 0;
};

void expect_libxcrypt_agrees(const std::string &hash, Agreement *seen = nullptr)
{
    const HashCost c = read_hash_cost(hash);
    const bool hashed = c.family != HashFamily::NotHashed && !c.rejected;
    if (c.work_us > kCheapUs) {
        if (seen != nullptr)
            seen->not_run++;
        return;
    }
    if (seen != nullptr)
        (hashed ? seen->hashed : seen->rejected)++;
    EXPECT_EQ(libxcrypt_hashes(hash), hashed)
        << "'" << hash << "' read as family " << static_cast<int>(c.family) << (c.rejected ? ", rejected" : "");
}

// ---- the table

enum Verdict { Hashes, Rejected, Unknown };

struct Row {
    std::string hash;
    HashFamily family;
    Verdict verdict;
    const char *refused_by;  // the setting the default limits refuse it by;
                             // nullptr: may be hashed
};

const HashFamily kDes = HashFamily::Des, kBig = HashFamily::BigCrypt, kBsdi = HashFamily::BsdiDes,
                 kMd5 = HashFamily::Md5Crypt, kSun = HashFamily::SunMd5, kSha1 = HashFamily::Sha1Crypt,
                 kSha256 = HashFamily::Sha256Crypt, kSha512 = HashFamily::Sha512Crypt, kBf = HashFamily::Bcrypt,
                 kNt = HashFamily::Nt, kScrypt = HashFamily::Scrypt, kY = HashFamily::Yescrypt,
                 kGy = HashFamily::GostYescrypt, kNone = HashFamily::NotHashed;
const char *const kRounds = "max_crypt_rounds";
const char *const kCost = "max_bcrypt_cost";
const char *const kMib = "max_yescrypt_mib";
const char *const kLanes = "at most 4 each";

// At, below and above each default cap (1000000 rounds, bcrypt 14, 64 MiB), and the spellings
// libxcrypt accepts or rejects around them.
std::vector<Row> rows()
{
    return {
        // DES and bigcrypt: fixed work
        {"ab01234567890", kDes, Hashes, nullptr},
        {"ab", kDes, Hashes, nullptr},
        {"abcdefghijklmnopqrstuvwx", kBig, Hashes, nullptr},
        {"", kDes, Rejected, nullptr},
        {"a", kNone, Unknown, nullptr},
        {"a$cdefghijklm", kNone, Unknown, nullptr},
        // BSDi extended DES: 24 bits of iterations
        {"_J9..salt", kBsdi, Hashes, nullptr},
        {bsdi(999999), kBsdi, Hashes, nullptr},
        {bsdi(1000000), kBsdi, Hashes, nullptr},
        {bsdi(1000001), kBsdi, Hashes, kRounds},
        {"_zzzzsalt", kBsdi, Hashes, kRounds},
        {"_zzzzsal", kBsdi, Rejected, nullptr},
        {"_zzzzsa$t", kBsdi, Rejected, kRounds},
        // MD5-crypt, NT: fixed work
        {"$1$abcdefgh$0123456789012345678901", kMd5, Hashes, nullptr},
        {"$1$", kMd5, Hashes, nullptr},
        {"$3$", kNt, Hashes, nullptr},
        {"$3$$8846f7eaee8fb117ad06bdd830b7586c", kNt, Hashes, nullptr},
        // Sun MD5, both spellings of rounds=
        {"$md5$abcdefgh$", kSun, Hashes, nullptr},
        {"$md5,abcdefgh$", kSun, Hashes, nullptr},
        {"$md5$", kSun, Hashes, nullptr},
        {rounds("$md5,rounds=", 999999), kSun, Hashes, nullptr},
        {rounds("$md5,rounds=", 1000000), kSun, Hashes, nullptr},
        {rounds("$md5,rounds=", 1000001), kSun, Hashes, kRounds},
        {rounds("$md5$rounds=", 999999), kSun, Hashes, nullptr},
        {rounds("$md5$rounds=", 1000000), kSun, Hashes, nullptr},
        {rounds("$md5$rounds=", 1000001), kSun, Hashes, kRounds},
        {rounds("$md5$rounds=", 5000000), kSun, Hashes, kRounds},
        {rounds("$md5$rounds=", 4294967295), kSun, Hashes, kRounds},
        {rounds("$md5$rounds=", 4294967296), kSun, Rejected, kRounds},
        {"$md5$rounds=99999999999999999999999$abcdefgh$", kSun, Rejected, kRounds},
        {"$md5$rounds=01000001$abcdefgh$", kSun, Rejected, nullptr},  // no leading zero: not read
        {"$md5$rounds=0$abcdefgh$", kSun, Rejected, nullptr},
        {"$md5$rounds=1000001", kSun, Rejected, kRounds},
        {"$md5$rounds=5$a", kSun, Hashes, nullptr},
        {"$md5x$abcdefgh$", kSun, Rejected, nullptr},
        {"$md5", kSun, Rejected, nullptr},
        // NetBSD sha1crypt: strtoul() with its sign, leading zeros and overflow
        {rounds("$sha1$", 999999), kSha1, Hashes, nullptr},
        {rounds("$sha1$", 1000000), kSha1, Hashes, nullptr},
        {rounds("$sha1$", 1000001), kSha1, Hashes, kRounds},
        {"$sha1$0001000001$abcdefgh$", kSha1, Hashes, kRounds},
        {"$sha1$+1000001$abcdefgh$", kSha1, Hashes, kRounds},
        {"$sha1$-1$abcdefgh$", kSha1, Hashes, kRounds},  // ULONG_MAX iterations
        {"$sha1$-0$abcdefgh$", kSha1, Hashes, nullptr},
        {"$sha1$99999999999999999999999$abcdefgh$", kSha1, Hashes, kRounds},
        {"$sha1$$abcdefgh$", kSha1, Hashes, nullptr},
        {"$sha1$100$", kSha1, Rejected, nullptr},
        {"$sha1$+$abcdefgh$", kSha1, Rejected, nullptr},
        {"$sha1$2000000x$abcdefgh$", kSha1, Rejected, kRounds},
        {"$sha1x", kSha1, Rejected, nullptr},
        // sha256/sha512-crypt
        {"$5$abcdefgh$", kSha256, Hashes, nullptr},
        {"$6$abcdefgh$x", kSha512, Hashes, nullptr},
        {"$6$", kSha512, Hashes, nullptr},
        {rounds("$5$rounds=", 999999), kSha256, Hashes, nullptr},
        {rounds("$5$rounds=", 1000000), kSha256, Hashes, nullptr},
        {rounds("$5$rounds=", 1000001), kSha256, Hashes, kRounds},
        {rounds("$6$rounds=", 999999), kSha512, Hashes, nullptr},
        {rounds("$6$rounds=", 1000000), kSha512, Hashes, nullptr},
        {rounds("$6$rounds=", 1000001), kSha512, Hashes, kRounds},
        {rounds("$6$rounds=", 999999999), kSha512, Hashes, kRounds},
        {rounds("$6$rounds=", 1000000000), kSha512, Rejected, kRounds},
        {"$6$rounds=99999999999999999999999999$s$x", kSha512, Rejected, kRounds},
        {rounds("$6$rounds=", 999), kSha512, Rejected, nullptr},
        {"$6$rounds=01000001$abcdefgh$", kSha512, Rejected, nullptr},
        {"$6$rounds=$x", kSha512, Rejected, nullptr},
        {"$6$rounds=5000", kSha512, Rejected, nullptr},
        // bcrypt
        {"$2b$04$abcdefghijklmnopqrstuu", kBf, Hashes, nullptr},
        {"$2a$05$abcdefghijklmnopqrstuu", kBf, Hashes, nullptr},
        {"$2x$05$abcdefghijklmnopqrstuu", kBf, Hashes, nullptr},
        {"$2y$05$abcdefghijklmnopqrstuu", kBf, Hashes, nullptr},
        {"$2b$13$abcdefghijklmnopqrstuu", kBf, Hashes, nullptr},
        {"$2b$14$abcdefghijklmnopqrstuu", kBf, Hashes, nullptr},
        {"$2b$15$abcdefghijklmnopqrstuu", kBf, Hashes, kCost},
        {"$2y$31$abcdefghijklmnopqrstuu", kBf, Hashes, kCost},
        {"$2b$15$x", kBf, Rejected, kCost},  // a short salt: the cost still decides
        {"$2b$03$abcdefghijklmnopqrstuu", kBf, Rejected, nullptr},
        {"$2b$32$abcdefghijklmnopqrstuu", kBf, Rejected, nullptr},
        {"$2b$5$abcdefghijklmnopqrstuu", kBf, Rejected, nullptr},
        {"$2b$", kBf, Rejected, nullptr},
        {"$2c$05$abcdefghijklmnopqrstuu", kNone, Unknown, nullptr},
        {"$2$05$abcdefghijklmnopqrstuu", kNone, Unknown, nullptr},
        // scrypt $7$: 128 * N * r * p
        {"$7$CU..../....RZbHeVMq2hizTtkgUeGnQ1", kScrypt, Hashes, nullptr},  // libxcrypt's default, 64 MiB
        {scrypt(14, 32, 1), kScrypt, Hashes, nullptr},
        {scrypt(13, 32, 2), kScrypt, Hashes, nullptr},
        {scrypt(14, 32, 2), kScrypt, Hashes, kMib},
        {scrypt(14, 33, 1), kScrypt, Hashes, kMib},
        {scrypt(15, 32, 1), kScrypt, Hashes, kMib},
        {scrypt(10, 8, 63), kScrypt, Hashes, nullptr},
        {scrypt(10, 8, 64), kScrypt, Hashes, nullptr},  // 64 MiB of work in 64 passes over 1 MiB
        {scrypt(10, 8, 65), kScrypt, Hashes, kMib},
        {scrypt(10, 8, 100000), kScrypt, Hashes, kMib},
        {scrypt(20, 32, 1), kScrypt, Hashes, kMib},
        {scrypt(33, 1, 1), kScrypt, Rejected, kMib},
        {scrypt(1, 8, 1), kScrypt, Rejected, nullptr},
        {scrypt(10, 0, 1), kScrypt, Rejected, nullptr},
        {scrypt(10, 8, 0), kScrypt, Rejected, nullptr},
        {scrypt(10, 1 << 15, 1 << 15), kScrypt, Rejected, kMib},  // r * p >= 2^30
        {"$7$", kScrypt, Rejected, nullptr},
        {"$7$C", kScrypt, Rejected, nullptr},
        // yescrypt $y$ (read-write), gost-yescrypt $gy$: 128 * N * r, p and t at most 4
        {"$y$j9T$salt$hash", kY, Hashes, nullptr},
        {"$y$j9T$", kY, Hashes, nullptr},
        {"$gy$j9T$salt$hash", kGy, Hashes, nullptr},
        {yescrypt(13, 32), kY, Hashes, nullptr},
        {yescrypt(14, 32), kY, Hashes, nullptr},
        {yescrypt(15, 32), kY, Hashes, kMib},
        {yescrypt(14, 33), kY, Hashes, kMib},
        {yescrypt(14, 32, 1, 0, 47, "$gy$"), kGy, Hashes, nullptr},
        {yescrypt(15, 32, 1, 0, 47, "$gy$"), kGy, Hashes, kMib},
        {yescrypt(14, 32, 4, 4), kY, Hashes, nullptr},
        {yescrypt(14, 32, 5), kY, Hashes, kLanes},
        {yescrypt(14, 32, 1, 5), kY, Hashes, kLanes},
        {yescrypt(12, 8, 1000), kY, Hashes, kLanes},
        {"$y$jFT$.HLxOC/CADOlshU0NMaUQ0$x", kY, Hashes, kMib},  // libxcrypt cost 11: 1 GiB
        {"$y$jzzzzzzT$salt$x", kY, Rejected, kMib},             // N = 2^(a 6-character number)
        {"$y$j9TA.$salt$x", kY, Rejected, nullptr},             // g and NROM: refused by yescrypt_kdf
        {"$y$k9T$salt$x", kY, Rejected, nullptr},               // an RW flavour libxcrypt does not hash
        {"$y$j9T$s$x", kY, Rejected, nullptr},                  // a salt of one character
        {"$y$j9T", kY, Rejected, nullptr},
        {"$y$", kY, Rejected, nullptr},
        // yescrypt's classic-scrypt and WORM flavours: every lane runs over all the memory
        {yescrypt(10, 8, 64, 0, 0), kScrypt, Hashes, nullptr},
        {yescrypt(10, 8, 65, 0, 0), kScrypt, Hashes, kMib},
        {yescrypt(10, 8, 1, 1, 0), kScrypt, Rejected, nullptr},  // classic takes no t
        {yescrypt(10, 8, 64, 0, 1), kY, Hashes, nullptr},
        {yescrypt(10, 8, 65, 0, 1), kY, Hashes, kMib},
        {yescrypt(10, 8, 1, 4, 1), kY, Hashes, nullptr},
        {yescrypt(10, 8, 1, 5, 1), kY, Hashes, kLanes},
        // what no method takes, and bytes crypt(5) does not allow
        {"$9$abc", kNone, Unknown, nullptr},
        {"*", kNone, Unknown, nullptr},
        {"!$6$rounds=999999999$abcdefgh$", kNone, Unknown, nullptr},
        {"$6$rounds=999999999$abc defgh$", kNone, Unknown, nullptr},
        {"$6$rounds=999999999$abc:defgh$", kNone, Unknown, nullptr},
        {std::string("$6$rounds=999999999$ab\x80", 23), kNone, Unknown, nullptr},
        {std::string("$6$rounds=5000\0$rounds=999999999$", 33), kSha512, Rejected,
         nullptr},  // crypt sees "$6$rounds=5000"
    };
}

std::string describe(const Row &row)
{
    return "'" + row.hash + "'";
}

}  // namespace

TEST(HashCostTable, TheDefaultLimitsAreTheSettingsDefaults)
{
    const HashCostLimits l = testsupport::default_hash_limits();
    EXPECT_EQ(l.max_crypt_rounds, 1000000U);
    EXPECT_EQ(l.max_bcrypt_cost, 14U);
    EXPECT_EQ(l.max_yescrypt_mib, 64U);
}

TEST(HashCostTable, EveryFormIsReadAsLibxcryptReadsIt)
{
    for (const Row &row : rows()) {
        const HashCost c = read_hash_cost(row.hash);
        EXPECT_EQ(c.family, row.family) << describe(row);
        if (row.verdict != Unknown) {
            EXPECT_EQ(c.rejected, row.verdict == Rejected) << describe(row);
        }
    }
}

TEST(HashCostTable, EachCapRefusesAboveItNamingItsSetting)
{
    const HashCostLimits l = testsupport::default_hash_limits();
    for (const Row &row : rows()) {
        const auto why = hash_cost_refusal(row.hash, l);
        if (row.refused_by == nullptr) {
            EXPECT_EQ(why, std::nullopt) << describe(row);
            continue;
        }
        ASSERT_TRUE(why) << describe(row) << " should be refused by " << row.refused_by;
        EXPECT_NE(why->find(row.refused_by), std::string::npos) << describe(row) << ": " << *why;
        EXPECT_NE(why->find("refused before hashing"), std::string::npos) << *why;
    }
}

TEST(HashCostTable, LibxcryptAgreesWithEveryCheapRow)
{
    for (const Row &row : rows())
        expect_libxcrypt_agrees(row.hash);
}

TEST(HashCostTable, RefusalsStateTheNumberLibxcryptWouldUse)
{
    const HashCostLimits l = testsupport::default_hash_limits();
    auto refusal = [&](const std::string &h) { return hash_cost_refusal(h, l).value_or("(allowed)"); };
    EXPECT_NE(
        refusal("$md5$rounds=5000000$abcdefgh$").find("Sun MD5 rounds 5000000, more than max_crypt_rounds=1000000"),
        std::string::npos)
        << refusal("$md5$rounds=5000000$abcdefgh$");
    EXPECT_NE(refusal("$sha1$-1$abcdefgh$").find("18446744073709551615"), std::string::npos);
    EXPECT_NE(refusal("_zzzzsalt").find("16777215"), std::string::npos);
    EXPECT_NE(refusal(scrypt(10, 8, 100000)).find("p = 100000"), std::string::npos) << refusal(scrypt(10, 8, 100000));
    EXPECT_NE(refusal(scrypt(10, 8, 100000)).find(" 100000, more than max_yescrypt_mib=64"), std::string::npos)
        << refusal(scrypt(10, 8, 100000));
    EXPECT_NE(refusal("$y$jFT$.HLxOC/CADOlshU0NMaUQ0$x").find(" 1024, more than max_yescrypt_mib=64"),
              std::string::npos);
}

TEST(HashCostTable, OtherLimitsMoveEveryCap)
{
    HashCostLimits l;
    l.max_crypt_rounds = 5000;
    l.max_bcrypt_cost = 10;
    l.max_yescrypt_mib = 16;
    for (const char *prefix : {"$5$rounds=", "$6$rounds=", "$md5$rounds=", "$md5,rounds=", "$sha1$"}) {
        EXPECT_FALSE(hash_cost_refusal(rounds(prefix, 5000), l)) << prefix;
        EXPECT_TRUE(hash_cost_refusal(rounds(prefix, 5001), l)) << prefix;
    }
    EXPECT_FALSE(hash_cost_refusal(bsdi(5000), l));
    EXPECT_TRUE(hash_cost_refusal(bsdi(5001), l));
    EXPECT_FALSE(hash_cost_refusal("$2b$10$abcdefghijklmnopqrstuu", l));
    EXPECT_TRUE(hash_cost_refusal("$2b$11$abcdefghijklmnopqrstuu", l));
    EXPECT_FALSE(hash_cost_refusal(yescrypt(12, 32), l));  // 16 MiB, as $y$j9T$
    EXPECT_TRUE(hash_cost_refusal(yescrypt(13, 32), l));
    EXPECT_FALSE(hash_cost_refusal(scrypt(10, 8, 16), l));
    EXPECT_TRUE(hash_cost_refusal(scrypt(10, 8, 17), l));
}

// Random edits of cheap hashes of every family: wherever the reading calls the result cheap,
// libxcrypt must hash it exactly when the reading says it would.
TEST(HashCostTable, LibxcryptAgreesOnEditedHashes)
{
    const std::vector<std::string> seeds = {"ab01234567890",
                                            "abcdefghijklmnopqrstuvwx",
                                            "_J9..salt",
                                            "$1$abcdefgh$",
                                            "$md5$abcdefgh$",
                                            "$md5,rounds=100$abcdefgh$",
                                            "$md5$rounds=100$abcdefgh$",
                                            "$sha1$100$abcdefgh$",
                                            "$5$rounds=1000$abcdefgh$",
                                            "$6$abcdefgh$",
                                            "$2b$04$abcdefghijklmnopqrstuu",
                                            yescrypt(8, 8),
                                            yescrypt(8, 8, 2, 1),
                                            yescrypt(8, 8, 1, 0, 0),
                                            yescrypt(8, 8, 1, 1, 1),
                                            "$gy$j75$abcdefgh$",
                                            scrypt(8, 4, 1),
                                            "$3$"};
    const std::string alphabet = std::string(kItoa64) + "$,=+-_:*rounds";
    std::mt19937 random(25);
    auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    int edited = 0;
    Agreement seen;
    for (; edited < 3000 && std::chrono::steady_clock::now() < deadline; edited++) {
        std::string h = seeds[pick(seeds.size())];
        for (size_t edits = 1 + pick(3); edits > 0; edits--) {
            const size_t at = pick(h.size() + 1);
            const char c = alphabet[pick(alphabet.size())];
            switch (pick(3)) {
            case 0:
                h.insert(h.begin() + static_cast<std::ptrdiff_t>(at), c);
                break;
            case 1:
                if (at < h.size())
                    h.erase(at, 1);
                break;
            default:
                if (at < h.size())
                    h[at] = c;
            }
        }
        expect_libxcrypt_agrees(h, &seen);
    }
    std::printf("%d edited hashes: %d hashed, %d rejected, %d too costly to try\n", edited, seen.hashed, seen.rejected,
                seen.not_run);
    EXPECT_GT(edited, 500);
    EXPECT_GT(seen.hashed, edited / 10);
    EXPECT_GT(seen.rejected, edited / 10);
}

TEST(HashWork, FollowsTheCostOfEachFamily)
{
    const uint64_t des = hash_work_us("ab01234567890"), md5 = hash_work_us("$1$abcdefgh$"),
                   sha512 = hash_work_us("$6$abcdefgh$"), bcrypt10 = hash_work_us("$2b$10$abcdefghijklmnopqrstuu"),
                   bcrypt12 = hash_work_us("$2b$12$abcdefghijklmnopqrstuu"),
                   bcrypt14 = hash_work_us("$2b$14$abcdefghijklmnopqrstuu");
    EXPECT_LT(des, md5);
    EXPECT_LT(md5, sha512);
    EXPECT_LT(sha512, bcrypt10);
    EXPECT_LT(bcrypt10, bcrypt12);
    EXPECT_LT(bcrypt12, bcrypt14);
    // what the verification threads tell apart at 20 ms: the shipped examples are cheap,
    // bcrypt 10 and libxcrypt's default yescrypt are not
    EXPECT_LT(sha512, 20000U);
    EXPECT_GT(bcrypt10, 20000U);
    EXPECT_GT(hash_work_us("$y$j9T$salt$hash"), 20000U);
    EXPECT_LT(hash_work_us("$y$j7T$salt$hash"), 20000U);
    EXPECT_LT(hash_work_us("$md5$abcdefgh$"), 20000U);
    EXPECT_GT(hash_work_us(rounds("$md5$rounds=", 5000000)),
              1000000U);  // seconds, as measured
}

// The client picks the password: sha-crypt hashes it at every round, so a long one costs up
// to 9 times a short one (measured: $6$rounds=86000$ 21 ms with 8 bytes, 184 ms with 511).
TEST(HashWork, GrowsWithThePasswordsLength)
{
    const std::string sha = rounds("$6$rounds=", 86000);
    EXPECT_LT(hash_work_us(sha, 8), 25000U);
    EXPECT_GT(hash_work_us(sha, 511), 150000U);  // slow: it must not look cheap to the threads
    EXPECT_LT(hash_work_us("$6$abcdefgh$", 64), 20000U);  // the shipped examples stay cheap
    EXPECT_LT(hash_work_us("ab01234567890", 511), 20000U);
    EXPECT_EQ(hash_work_us(sha), hash_work_us(sha, 0));
}

TEST(HashWork, GrowsWithEveryCostParameter)
{
    auto increasing = [](const std::vector<std::string> &hashes) {
        for (size_t i = 1; i < hashes.size(); i++)
            EXPECT_LT(hash_work_us(hashes[i - 1]), hash_work_us(hashes[i])) << hashes[i - 1] << " < " << hashes[i];
    };
    for (const char *prefix : {"$5$rounds=", "$6$rounds=", "$md5$rounds=", "$md5,rounds=", "$sha1$"})
        increasing({rounds(prefix, 1000), rounds(prefix, 10000), rounds(prefix, 1000000), rounds(prefix, 999999999)});
    increasing({bsdi(1), bsdi(1000), bsdi(1000000), bsdi(16777215)});
    increasing({"$2b$04$abcdefghijklmnopqrstuu", "$2b$05$abcdefghijklmnopqrstuu", "$2b$10$abcdefghijklmnopqrstuu",
                "$2b$31$abcdefghijklmnopqrstuu"});
    increasing({scrypt(10, 8, 1), scrypt(11, 8, 1), scrypt(11, 9, 1), scrypt(11, 9, 2), scrypt(20, 32, 1000)});
    increasing({yescrypt(10, 8), yescrypt(11, 8), yescrypt(11, 9), yescrypt(11, 9, 1, 1), yescrypt(11, 9, 1, 2),
                yescrypt(11, 9, 1, 3), yescrypt(30, 32, 1, 100)});
    increasing(
        {yescrypt(10, 8, 1, 0, 1), yescrypt(10, 8, 2, 0, 1), yescrypt(10, 8, 2, 1, 1), yescrypt(10, 8, 2, 2, 1)});
}

TEST(HashWork, RejectedFormsAreCheapAndNothingIsLeftUnread)
{
    for (const char *h : {"", "*", "!", "$9$x", "$6$rounds=999$abc$", "$2b$03$abcdefghijklmnopqrstuu", "$y$"})
        EXPECT_EQ(hash_work_us(h), 1U) << h;
    // far beyond any cap, yet a finite figure
    EXPECT_EQ(hash_work_us("$sha1$-1$abcdefgh$"), 1000000000000ULL);
    EXPECT_EQ(hash_work_us(scrypt(32, (1 << 15) - 1, (1 << 15) - 1)), 1000000000000ULL);
    EXPECT_LT(hash_work_us("$2b$31$abcdefghijklmnopqrstuu"), 1000000000000ULL);
}
