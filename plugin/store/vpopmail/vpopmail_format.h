// vpopmail's on-disk records and rules (docs/formats.md, Part I), as pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "file_util.h"

namespace vstore::vpopmail {

// vpasswd field 4 (pw_gid) bits, vpopmail.h.
enum Flag : uint32_t {
    NO_PASSWD_CHNG = 0x01,
    NO_POP = 0x02,
    NO_WEBMAIL = 0x04,
    NO_IMAP = 0x08,
    BOUNCE_MAIL = 0x10,
    NO_RELAY = 0x20,
    NO_DIALUP = 0x40,
    NO_SMTP = 0x800,
    QA_ADMIN = 0x1000,
    V_OVERRIDE = 0x2000,
    NO_SPAMASSASSIN = 0x4000,
    DELETE_SPAM = 0x8000,
    NO_MAILDROP = 0x40000,
};

// lowerit() stops at 156 characters; vchkpw reads at most 155 bytes. We refuse longer logins
// rather than truncate them into some other user's name.
constexpr size_t kMaxLoginLength = 156;
// MAX_PW_NAME in vpopmail 5.6 (32 in 5.4): no store can hold a longer user name.
constexpr size_t kMaxUserLength = 64;

struct ParsedLogin {
    bool ok = false;
    std::string user, domain;  // lowercased; domain empty when the login has none
    std::string error;         // why the login is invalid
};

// parse_email(): lowercase, split at the first '@', else the first '%', else the first '/',
// check both parts' characters. "alice@" has an empty domain, like "alice".
ParsedLogin parse_login(std::string_view login);
bool is_username_valid(std::string_view user);
bool is_domain_valid(std::string_view domain);
using vstore::ascii_lower;

// users/cdb value for "!<domain>-": realdomain\0uid\0gid\0dir\0-\0
struct AssignRecord {
    std::string real_domain, dir;
    uint32_t uid = 0, gid = 0;
};
std::optional<AssignRecord> parse_assign_value(std::string_view value, std::string *error);

// Sizes of a vpasswd record (a vpasswd.cdb value, a text vpasswd line, a MySQL row), checked
// before its fields are copied: over one is a store fault of that user, never an allocation
// the record's writer chose. vpopmail 5.6's vpopmail.h caps every field it writes
// (MAX_PW_PASS 128, MAX_PW_GECOS 48, MAX_PW_DIR 160, MAX_PW_QUOTA 20, MAX_PW_CLEAR_PASSWD 128;
// vadduser and vmoduser refuse longer values, and its MySQL columns are as wide), so a record
// of its tools is under 600 bytes; the caps leave several times that for other builds.
constexpr size_t kMaxRecordBytes = 4096;
constexpr size_t kMaxFieldBytes = 1024;
// Why a field (named as vpasswd's: "pw_passwd", "pw_dir", ...) is over kMaxFieldBytes.
std::optional<std::string> field_size_refusal(std::string_view name, std::string_view field);

// vpasswd.cdb value (the text line after "name:"): passwd:uid:gid:gecos:dir:quota[:clear],
// where clear is everything after the sixth colon. At most kMaxRecordBytes, each field
// within kMaxFieldBytes.
struct VpasswdRecord {
    std::string passwd, apop, gecos, dir, quota, clear;
    uint32_t flags = 0;  // field 4, pw_gid
};
std::optional<VpasswdRecord> parse_vpasswd_value(std::string_view value, std::string *error);

// Finds "name:" at the start of a line of a text vpasswd; returns the rest of that line.
std::optional<std::string_view> find_vpasswd_line(std::string_view text, std::string_view name);

// .qmailadmin-limits / vlimits.default: the flag bits that the domain's disable_* keywords set.
uint32_t parse_limits_mask(std::string_view text);

// Effective flags, as vlimits_setflags(): V_OVERRIDE ignores the domain's limits.
uint32_t effective_flags(uint32_t user_flags, uint32_t limits_mask);

// vpasswd field 7 (pw_shell), read as vdelivermail does: "NO..." or empty means no quota;
// anything else goes through format_maildirquota(): parts split at ',' (empty ones skipped),
// a part ending in upper-case 'C' is the message count, any other part the size (a trailing
// S/s, then B/b removed, then K/k or M/m multiplies), each number read by strtoll() (leading
// white space, a sign, digits up to the first other character). A later part of a kind
// replaces an earlier one; 0 is no limit of that kind.
struct Quota {
    bool valid = true;  // false: no limit came out of a field that is not empty or NO...
    std::optional<uint64_t> bytes, messages;
    bool unlimited() const { return !bytes && !messages; }
};
Quota parse_quota(std::string_view field);

// Whether `service` from a client is refused by these flags. vchkpw treats IMAP and POP3
// from a webmail address as webmail: then only NO_WEBMAIL applies. Returns the reason.
std::optional<std::string> service_refusal(uint32_t flags, std::string_view service, bool webmail);

// What vchkpw 5.6 (vauth_crypt) hands to crypt(3) for a stored pw_passwd: the field without a
// leading "{...}", whatever the braces name (5.4 keeps the prefix and so never matches).
std::string crypt_part(std::string_view stored);

std::string flags_to_string(uint32_t flags);

}  // namespace vstore::vpopmail
