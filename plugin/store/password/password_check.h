// Verifying a password outside Dovecot (the vstore tool): the schemes the stores use, with a
// constant-time comparison.
#pragma once

#include <string>
#include <string_view>

namespace vstore {

enum class PasswordMatch { Match, Mismatch, Unsupported };

// scheme: a Dovecot scheme name as the drivers hand it over (CRYPT, MD5-CRYPT, SHA256-CRYPT,
// SHA512-CRYPT, BLF-CRYPT, DES-CRYPT, PLAIN, CLEARTEXT, PLAIN-MD5).
PasswordMatch verify_password(std::string_view scheme, const std::string &hash, const std::string &plain);

// Whether verify_password() checks this scheme with crypt(3) (DES and the $-prefixed ones).
bool is_crypt_scheme(std::string_view scheme);

bool constant_time_equal(std::string_view a, std::string_view b);
std::string md5_hex(std::string_view data);

}  // namespace vstore
