// What a login asks of a store and what the store answers: the vocabulary of both stores'
// decide() and userdb(). The Dovecot glue, `vstore` and the benchmarks call those functions
// and only sequence them; the rules and the refusal reasons live in the stores.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "outcome.h"

namespace vstore {

struct LoginRequest {
    std::string_view login;
    std::string_view service;     // imap, pop3, smtp, ... (Dovecot's service / 2.4's protocol)
    std::string_view remote_ip;   // the client's address, empty if unknown
    std::string_view local_name;  // the connection's local host name (TLS SNI), may be empty
};

// How the password will be checked.
enum class PasswordUse {
    Plain,        // the client sent the password: it is verified against `password`
    Credentials,  // a challenge-response mechanism: `password` is handed to Dovecot
};

struct PasswordToCheck {
    std::string scheme;  // a Dovecot scheme name: CRYPT, PLAIN, PLAIN-MD5
    std::string hash;
    // Whether the stored hash may go back to Dovecot as the passdb's password field (for its
    // auth cache): not when a clear password stands in for the hash.
    bool reply_hash = true;
};

struct LoginDecision {
    Outcome before;              // decided before the password: unknown, refused, store fault
    std::string user;            // the canonical name, Dovecot's `user` field; set once found
    PasswordToCheck password;    // set when `before` is ok
    Outcome after_match;         // told only once the password matched (service checks)
    std::vector<std::string> notes;  // how the lookup went, for debug logs
};

// The userdb's answer, independent of the Dovecot version (compat renders it).
struct UserdbView {
    std::string user, home, maildir;
    unsigned uid = 0, gid = 0;
    std::optional<uint64_t> quota_bytes, quota_messages;
    std::vector<std::pair<std::string, std::string>> extra_fields;  // e.g. vmailmgr_personal
    std::vector<std::string> warnings;  // store oddities that do not fail the lookup
    std::vector<std::string> notes;
};

// vchkpw ("null password") and checkvpw both refuse an empty password, whatever is stored.
inline std::optional<std::string> empty_password_refusal(std::string_view plain)
{
    if (plain.empty())
        return std::string("empty password");
    return std::nullopt;
}

}  // namespace vstore
