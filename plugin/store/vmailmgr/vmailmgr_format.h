// vmailmgr's records and rules (docs/formats.md, Part II), as pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "file_util.h"

namespace vstore::vmailmgr {

constexpr uint32_t kUnlimited = 0xffffffffu;  // "-": unlimited / never

struct Limits {
    uint32_t hardquota = kUnlimited, softquota = kUnlimited, msgsize = kUnlimited,
             msgcount = kUnlimited, expiry = kUnlimited;
};

struct Record {
    int version = 2;  // 1, 2, or 0 for the old ":password:destination" form
    bool has_mailbox = true, mailbox_enabled = true;
    std::string password, directory, personal;
    std::vector<std::string> forwards;
    uint32_t hardquota = kUnlimited, softquota = kUnlimited, msgsize = kUnlimited,
             msgcount = kUnlimited, ctime = 0, expiry = kUnlimited;
};

// Sizes a passwd.cdb record may have, checked before any field is copied: over one is a
// decode error (a store fault of that user), never an allocation the record's writer chose.
// vmailmgr itself has no limit (its fields are mystrings); its tools write a crypt hash or
// "3"+hex (under 128 bytes), a directory "./users/<name>" (or an old absolute path, at most
// PATH_MAX), a personal name typed at vadduser and forwarding addresses. The caps are far
// above those and small enough that copying a record into Dovecot (whose data stack panics
// at some MiB) cannot take the auth process down.
constexpr size_t kMaxRecordBytes = 64 * 1024;  // forwards are what grows: ~1000 addresses fit
constexpr size_t kMaxPasswordBytes = 1024;     // the longest libxcrypt hash is ~130 bytes
constexpr size_t kMaxDirectoryBytes = 4096;    // PATH_MAX
constexpr size_t kMaxPersonalBytes = 4096;     // a person's name, with room to spare
constexpr size_t kMaxForwardBytes = 1024;      // one address (an SMTP path is at most 256)
constexpr size_t kMaxNumberBytes = 64;         // a 32-bit number, with the white space it may lead with

// Decodes a passwd.cdb value (at most kMaxRecordBytes, each field within its cap above). Colon-form records take limits and expiry from `defaults`
// (the default-* settings). Any deviation from the format is an error: no guessing.
std::optional<Record> decode_record(std::string_view value, const Limits &defaults, std::string *error);

// A number field: leading whitespace skipped, "-" (optionally followed by digits) = unlimited,
// empty = 0, otherwise decimal digits only.
bool parse_number(std::string_view field, uint32_t *out);
std::string number_to_string(uint32_t v);  // "-" for unlimited

// A limit field as a value: "-" (kUnlimited) is none.
std::optional<uint64_t> limit(uint32_t v);


// White space as vmailmgr's mystring strip()/rstrip() see it: isspace() in the C locale.
bool is_space(char c);
std::string_view rstrip(std::string_view s);
std::string_view strip(std::string_view s);

// control/virtualdomains: "domain:prefix" lines, each with its trailing white space removed,
// keys lowercased, a later line wins. A line whose prefix is empty is kept: it overrides an
// earlier line, and find_virtual_prefix() then treats the domain as unmapped.
std::map<std::string, std::string> parse_virtualdomains(std::string_view text);
// The same lines in file order (every line with a key, duplicates included).
std::vector<std::pair<std::string, std::string>> virtualdomains_lines(std::string_view text);
// control/locals: one domain per line, trailing white space removed, compared as is
// (checkvpw does not lowercase it).
std::vector<std::string> parse_locals(std::string_view text);
bool locals_contains(std::string_view text, std::string_view domain);
// Exact domain first, then each suffix starting at a dot; an empty prefix counts as no entry.
// Returns the prefix.
std::optional<std::string> find_virtual_prefix(const std::map<std::string, std::string> &vd,
                                               const std::string &domain);

// A settings file's content as vmailmgr's config_read() takes it: the first line, stripped
// of white space at both ends. nullopt when that is empty: the setting is unset there.
std::optional<std::string> setting_value(std::string_view file_text);
// Settings vmailmgr reads as numbers (configrc.in "uns"): a level whose value does not start
// with a number counts as unset.
bool is_numeric_setting(std::string_view name);
// A numeric setting's value, read as vmailmgr's strtou(): "-" (and anything after it) is
// unlimited, otherwise the leading decimal digits. Returns false if it starts with neither
// (vmailmgr then looks at the next level); *too_large when the digits exceed 32 bits (vmailmgr
// wraps them, the driver refuses them).
bool setting_number(std::string_view value, uint32_t *out, bool *too_large);

using vstore::ascii_lower;

// Splits login at the first byte found in `separators`. No separator: domain absent.
struct SplitLogin {
    std::string name;
    std::optional<std::string> domain;
};
SplitLogin split_login(std::string_view lowered_login, std::string_view separators);

// How a stored password is checked, as checkvpw's crypt_cmp: by Dovecot in `scheme`, or
// never (empty, "*", a malformed legacy MD5).
struct PasswordCheck {
    bool never = false;
    std::string scheme;  // PLAIN, PLAIN-MD5 or CRYPT
    std::string hash;
};
PasswordCheck classify_password(std::string_view stored);

// The mailbox directory for a stored directory string: relative ones (./users/x, users/x,
// .//abs) are inside the base home; an absolute one (old colon records) is used as is.
// Returns false for paths with ".." components or control characters.
bool resolve_directory(const std::string &base_home, std::string_view dir, std::string *out,
                       std::string *error);

}  // namespace vstore::vmailmgr
