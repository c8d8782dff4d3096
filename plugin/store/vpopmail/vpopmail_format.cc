#include "vpopmail_format.h"

#include <algorithm>
#include <cstring>

namespace vstore::vpopmail {

namespace {

// Decimal digits only, at most `max`.
bool parse_decimal(std::string_view s, uint64_t max, uint64_t *out)
{
    if (s.empty() || s.size() > 20)
        return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
        const unsigned d = static_cast<unsigned>(c - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool parse_u32(std::string_view s, uint32_t *out)
{
    uint64_t v;
    if (!parse_decimal(s, 0xffffffffULL, &v))
        return false;
    *out = static_cast<uint32_t>(v);
    return true;
}

}  // namespace

bool is_username_valid(std::string_view user)
{
    static const char allowed_punct[] = "!#$&'*+-./=?^_`{|}~";
    for (char c : user) {
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (c == '\0' || std::strchr(allowed_punct, c) == nullptr))
            return false;
    }
    return true;
}

bool is_domain_valid(std::string_view domain)
{
    for (char c : domain) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

ParsedLogin parse_login(std::string_view login)
{
    ParsedLogin p;
    if (login.size() > kMaxLoginLength) {
        p.error = "login is " + std::to_string(login.size()) + " bytes, longer than vpopmail's " +
                  std::to_string(kMaxLoginLength);
        return p;
    }
    std::string lower = ascii_lower(login);
    size_t sep = lower.find('@');
    if (sep == std::string::npos)
        sep = lower.find('%');
    if (sep == std::string::npos)
        sep = lower.find('/');
    std::string user = sep == std::string::npos ? lower : lower.substr(0, sep);
    std::string domain = sep == std::string::npos ? "" : lower.substr(sep + 1);
    if (user.empty()) {
        p.error = "empty user name";
        return p;
    }
    if (!is_username_valid(user)) {
        p.error = "user name contains a character vpopmail does not allow";
        return p;
    }
    if (user.size() > kMaxUserLength) {
        p.error = "user name longer than " + std::to_string(kMaxUserLength) + " characters";
        return p;
    }
    if (!is_domain_valid(domain)) {
        p.error = "domain contains a character vpopmail does not allow";
        return p;
    }
    p.ok = true;
    p.user = std::move(user);
    p.domain = std::move(domain);
    return p;
}

std::optional<AssignRecord> parse_assign_value(std::string_view value, std::string *error)
{
    std::string_view fields[6];
    size_t count = 0, pos = 0;
    while (pos <= value.size() && count < 6) {
        size_t nul = value.find('\0', pos);
        if (nul == std::string_view::npos) {
            fields[count++] = value.substr(pos);
            break;
        }
        fields[count++] = value.substr(pos, nul - pos);
        pos = nul + 1;
    }
    if (count < 4) {
        *error = "assign record has " + std::to_string(count) +
                 " fields, expected realdomain, uid, gid, dir";
        return std::nullopt;
    }
    AssignRecord r;
    r.real_domain = std::string(fields[0]);
    if (r.real_domain.empty() || !is_domain_valid(r.real_domain)) {
        *error = "assign record has an invalid real domain '" + r.real_domain + "'";
        return std::nullopt;
    }
    if (!parse_u32(fields[1], &r.uid) || !parse_u32(fields[2], &r.gid)) {
        *error = "assign record has a non-numeric uid or gid";
        return std::nullopt;
    }
    r.dir = std::string(fields[3]);
    if (r.dir.empty() || r.dir[0] != '/') {
        *error = "assign record's domain directory '" + r.dir + "' is not an absolute path";
        return std::nullopt;
    }
    return r;
}

std::optional<std::string> field_size_refusal(std::string_view name, std::string_view field)
{
    if (field.size() <= kMaxFieldBytes)
        return std::nullopt;
    return std::string(name) + " is " + std::to_string(field.size()) + " bytes, over the limit of " +
           std::to_string(kMaxFieldBytes);
}

std::optional<VpasswdRecord> parse_vpasswd_value(std::string_view value, std::string *error)
{
    if (value.size() > kMaxRecordBytes) {
        *error = "vpasswd record is " + std::to_string(value.size()) + " bytes, over the limit of " +
                 std::to_string(kMaxRecordBytes);
        return std::nullopt;
    }
    if (value.find('\0') != std::string_view::npos || value.find('\n') != std::string_view::npos) {
        *error = "vpasswd record contains a NUL or newline byte";
        return std::nullopt;
    }
    std::string_view f[7];
    size_t n = 0, pos = 0;
    for (; n < 6; n++) {
        size_t colon = value.find(':', pos);
        if (colon == std::string_view::npos) {
            f[n++] = value.substr(pos);
            pos = value.size() + 1;
            break;
        }
        f[n] = value.substr(pos, colon - pos);
        pos = colon + 1;
    }
    if (pos <= value.size())
        f[6] = value.substr(pos);  // the clear field keeps any further colons
    static const char *const names[7] = {"pw_passwd", "pw_uid", "pw_gid", "pw_gecos",
                                         "pw_dir",    "pw_shell", "pw_clear_passwd"};
    for (size_t i = 0; i < 7; i++)
        if (auto why = field_size_refusal(names[i], f[i])) {
            *error = "vpasswd " + *why;
            return std::nullopt;
        }

    VpasswdRecord r;
    r.passwd = std::string(f[0]);
    r.apop = std::string(f[1]);
    if (!f[2].empty() && !parse_u32(f[2], &r.flags)) {
        *error = "vpasswd flags field (4th) '" + std::string(f[2]) + "' is not a number";
        return std::nullopt;
    }
    r.gecos = std::string(f[3]);
    r.dir = std::string(f[4]);
    if (!r.dir.empty() && r.dir[0] != '/') {
        *error = "vpasswd directory field '" + r.dir + "' is not an absolute path";
        return std::nullopt;
    }
    r.quota = std::string(f[5]);
    r.clear = std::string(f[6]);
    return r;
}

std::optional<std::string_view> find_vpasswd_line(std::string_view text, std::string_view name)
{
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
        if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
            line[name.size()] == ':')
            return line.substr(name.size() + 1);
        if (nl == std::string_view::npos)
            break;
        pos = nl + 1;
    }
    return std::nullopt;
}

uint32_t parse_limits_mask(std::string_view text)
{
    static const struct {
        const char *keyword;
        uint32_t flag;
    } keywords[] = {
        {"disable_pop", NO_POP},
        {"disable_imap", NO_IMAP},
        {"disable_dialup", NO_DIALUP},
        {"disable_password_changing", NO_PASSWD_CHNG},
        {"disable_external_relay", NO_RELAY},
        {"disable_smtp", NO_SMTP},
        {"disable_webmail", NO_WEBMAIL},
        {"disable_spamassassin", NO_SPAMASSASSIN},
        {"delete_spam", DELETE_SPAM},
        {"disable_maildrop", NO_MAILDROP},
    };
    uint32_t mask = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        // vlimits_read_limits_file() ends a line at a CR as well as at a LF: "a\rb" is two
        // lines, "a\r\nb" two lines around an empty one
        size_t nl = text.find_first_of("\r\n", pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        if (line.empty() || line[0] == '#')
            continue;
        std::string_view keyword = line.substr(0, line.find_first_of(" \t:"));
        for (const auto &k : keywords)
            if (keyword == k.keyword)
                mask |= k.flag;
    }
    return mask;
}

uint32_t effective_flags(uint32_t user_flags, uint32_t limits_mask)
{
    return (user_flags & V_OVERRIDE) != 0 ? user_flags : user_flags | limits_mask;
}

namespace {

// strtoll(s, NULL, 10) as format_maildirquota() calls it, converted to vpopmail's storage_t
// (uint64_t): leading white space and a sign are taken, the first non-digit ends the number,
// no digits give 0, an overflow saturates at LLONG_MAX or LLONG_MIN, and a negative result
// wraps (two's complement).
uint64_t strtoll_storage(std::string_view s)
{
    size_t i = 0;
    while (i < s.size() &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\v' || s[i] == '\f' || s[i] == '\r'))
        i++;
    bool negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
        negative = s[i++] == '-';
    const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
    uint64_t v = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++) {
        const unsigned d = static_cast<unsigned>(s[i] - '0');
        v = v > (limit - d) / 10 ? limit : v * 10 + d;
    }
    return negative ? uint64_t{0} - v : v;
}

// One comma-separated part of a quota, as format_maildirquota() reads it into *size or *count.
void read_quota_part(std::string_view part, uint64_t *size, uint64_t *count)
{
    // only an upper-case C makes a message count: "1000c" is a size of 1000 bytes
    if (part.back() == 'C') {
        *count = strtoll_storage(part);
        return;
    }
    if (part.back() == 'S' || part.back() == 's')
        part.remove_suffix(1);
    if (!part.empty() && (part.back() == 'B' || part.back() == 'b'))
        part.remove_suffix(1);
    // the unit is the last character left, whatever stopped the number before it; the
    // product wraps in 64 bits as in vpopmail
    *size = strtoll_storage(part);
    if (!part.empty() && (part.back() == 'M' || part.back() == 'm'))
        *size *= 1024 * 1024;
    if (!part.empty() && (part.back() == 'K' || part.back() == 'k'))
        *size *= 1024;
}

// Dovecot keeps quota limits as int64: a larger vpopmail limit (from a negative or
// overflowing number) is one no mailbox reaches, so it is no limit.
std::optional<uint64_t> quota_limit(uint64_t v)
{
    if (v == 0 || v > static_cast<uint64_t>(INT64_MAX))
        return std::nullopt;
    return v;
}

}  // namespace

Quota parse_quota(std::string_view field)
{
    Quota q;
    if (field.empty() || field.compare(0, 2, "NO") == 0)
        return q;
    // format_maildirquota() works on a C string copied into 128 bytes
    field = field.substr(0, std::min(field.find('\0'), size_t{127}));
    uint64_t size = 0, count = 0;
    size_t pos = 0;
    while (pos < field.size()) {
        size_t comma = field.find(',', pos);
        std::string_view part = field.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
        pos = comma == std::string_view::npos ? field.size() : comma + 1;
        if (!part.empty())  // strtok() skips empty parts
            read_quota_part(part, &size, &count);
    }
    // both 0: format_maildirquota() returns "" ("invalid quota") and vdelivermail checks nothing
    q.valid = size != 0 || count != 0;
    q.bytes = quota_limit(size);
    q.messages = quota_limit(count);
    return q;
}


std::string flags_to_string(uint32_t flags)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {NO_PASSWD_CHNG, "NO_PASSWD_CHNG"}, {NO_POP, "NO_POP"},       {NO_WEBMAIL, "NO_WEBMAIL"},
        {NO_IMAP, "NO_IMAP"},               {BOUNCE_MAIL, "BOUNCE_MAIL"}, {NO_RELAY, "NO_RELAY"},
        {NO_DIALUP, "NO_DIALUP"},           {NO_SMTP, "NO_SMTP"},     {QA_ADMIN, "QA_ADMIN"},
        {V_OVERRIDE, "V_OVERRIDE"},         {NO_SPAMASSASSIN, "NO_SPAMASSASSIN"},
        {DELETE_SPAM, "DELETE_SPAM"},       {NO_MAILDROP, "NO_MAILDROP"},
    };
    std::string s;
    uint32_t rest = flags;
    for (const auto &n : names) {
        if ((flags & n.bit) != 0) {
            if (!s.empty())
                s += '|';
            s += n.name;
            rest &= ~n.bit;
        }
    }
    if (rest != 0) {
        if (!s.empty())
            s += '|';
        char buf[16];
        snprintf(buf, sizeof(buf), "0x%x", rest);
        s += buf;
    }
    return s.empty() ? "none" : s;
}

std::optional<std::string> service_refusal(uint32_t flags, std::string_view service_in, bool webmail)
{
    const std::string service = ascii_lower(service_in);
    const bool mail_reader = service == "imap" || service == "pop3";
    uint32_t flag = 0;
    const char *name = nullptr;
    if (mail_reader && webmail) {
        flag = NO_WEBMAIL;
        name = "NO_WEBMAIL";
    } else if (service == "imap") {
        flag = NO_IMAP;
        name = "NO_IMAP";
    } else if (service == "pop3") {
        flag = NO_POP;
        name = "NO_POP";
    } else if (service == "smtp" || service == "submission") {
        flag = NO_SMTP;
        name = "NO_SMTP";
    }
    if ((flags & flag) == 0)
        return std::nullopt;
    std::string why = std::string(name) + " blocks " + service;
    if (mail_reader && webmail)
        why += " from a webmail address";
    return why;
}

std::string crypt_part(std::string_view stored)
{
    if (!stored.empty() && stored[0] == '{') {
        size_t close = stored.find('}');
        if (close != std::string_view::npos)
            return std::string(stored.substr(close + 1));
    }
    return std::string(stored);
}

}  // namespace vstore::vpopmail
