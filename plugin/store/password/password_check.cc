#include "password_check.h"

#include <crypt.h>

#include <cstdint>
#include <cstring>

namespace vstore {

bool constant_time_equal(std::string_view a, std::string_view b)
{
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const size_t n = a.size() < b.size() ? a.size() : b.size();
    for (size_t i = 0; i < n; i++)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

namespace {

// RFC 1321 MD5, only for vmailmgr's legacy "3" + hex MD5 passwords.
struct Md5 {
    uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    void block(const unsigned char *p)
    {
        static const uint32_t k[64] = {
            0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
            0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
            0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
            0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
            0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
            0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
            0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
            0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
        static const int r[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                  5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
        uint32_t w[16];
        for (int i = 0; i < 16; i++)
            w[i] = p[i * 4] | (p[i * 4 + 1] << 8) | (p[i * 4 + 2] << 16) | (static_cast<uint32_t>(p[i * 4 + 3]) << 24);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
        for (int i = 0; i < 64; i++) {
            uint32_t f;
            int g;
            if (i < 16) {
                f = (b & c) | (~b & d);
                g = i;
            } else if (i < 32) {
                f = (d & b) | (~d & c);
                g = (5 * i + 1) % 16;
            } else if (i < 48) {
                f = b ^ c ^ d;
                g = (3 * i + 5) % 16;
            } else {
                f = c ^ (b | ~d);
                g = (7 * i) % 16;
            }
            uint32_t t = d;
            d = c;
            c = b;
            uint32_t x = a + f + k[i] + w[g];
            b = b + ((x << r[i]) | (x >> (32 - r[i])));
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
    }
};

}  // namespace

std::string md5_hex(std::string_view data)
{
    Md5 m;
    std::string msg(data);
    const uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
    msg += static_cast<char>(0x80);
    while (msg.size() % 64 != 56)
        msg += '\0';
    for (int i = 0; i < 8; i++)
        msg += static_cast<char>((bits >> (8 * i)) & 0xff);
    for (size_t off = 0; off < msg.size(); off += 64)
        m.block(reinterpret_cast<const unsigned char *>(msg.data() + off));
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (uint32_t v : m.h)
        for (int i = 0; i < 4; i++) {
            unsigned char byte = (v >> (8 * i)) & 0xff;
            out += hex[byte >> 4];
            out += hex[byte & 15];
        }
    return out;
}

bool is_crypt_scheme(std::string_view scheme)
{
    return scheme == "CRYPT" || scheme == "MD5-CRYPT" || scheme == "SHA256-CRYPT" || scheme == "SHA512-CRYPT" ||
           scheme == "BLF-CRYPT" || scheme == "DES-CRYPT";
}

PasswordMatch verify_password(std::string_view scheme, const std::string &hash, const std::string &plain)
{
    if (scheme == "PLAIN" || scheme == "CLEARTEXT")
        return constant_time_equal(hash, plain) ? PasswordMatch::Match : PasswordMatch::Mismatch;
    if (scheme == "PLAIN-MD5" || scheme == "LDAP-MD5-HEX")
        return constant_time_equal(hash, md5_hex(plain)) ? PasswordMatch::Match : PasswordMatch::Mismatch;
    if (is_crypt_scheme(scheme)) {
        // One scratch area per thread, zeroed once as crypt_r() asks: zeroing its 32 KiB at
        // every call cost more than a DES hash. Its copy of the passphrase is wiped after use.
        thread_local struct crypt_data data {};
        const char *out = crypt_r(plain.c_str(), hash.c_str(), &data);
        const PasswordMatch match = out == nullptr || out[0] == '*' || hash.empty() || !constant_time_equal(out, hash)
                                        ? PasswordMatch::Mismatch
                                        : PasswordMatch::Match;
        explicit_bzero(data.input, sizeof(data.input));
        return match;
    }
    return PasswordMatch::Unsupported;
}

}  // namespace vstore
