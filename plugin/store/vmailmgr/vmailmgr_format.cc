#include "vmailmgr_format.h"

#include "vmailmgr_paths.h"

namespace vstore::vmailmgr {

namespace {

// Reads a NUL-terminated field at *pos; false if there is no NUL before the end.
bool take_field(std::string_view v, size_t *pos, std::string_view *out)
{
    size_t nul = v.find('\0', *pos);
    if (nul == std::string_view::npos)
        return false;
    *out = v.substr(*pos, nul - *pos);
    *pos = nul + 1;
    return true;
}

// Why a field is over its cap (kMax*Bytes in the header), checked before it is copied.
bool field_fits(std::string_view field, size_t max, const char *name, std::string *error)
{
    if (field.size() <= max)
        return true;
    *error = std::string(name) + " field is " + std::to_string(field.size()) + " bytes, over the limit of " +
             std::to_string(max);
    return false;
}

// take_field() of a field that must fit its cap; *error names which went wrong.
bool take_capped_field(std::string_view v, size_t *pos, size_t max, const char *name, std::string_view *out,
                       std::string *error)
{
    if (!take_field(v, pos, out)) {
        *error = std::string("record ends inside the ") + name + " field";
        return false;
    }
    return field_fits(*out, max, name, error);
}

std::optional<Record> decode_binary(std::string_view v, std::string *error)
{
    Record r;
    r.version = static_cast<unsigned char>(v[0]);
    size_t pos = 1;
    if (r.version == 2) {
        for (;;) {
            if (pos >= v.size()) {
                *error = "record ends inside the flags";
                return std::nullopt;
            }
            unsigned char flag = static_cast<unsigned char>(v[pos++]);
            if (flag == 0)
                break;
            if (pos >= v.size()) {
                *error = "record ends inside the flags";
                return std::nullopt;
            }
            bool value = v[pos++] != 0;
            if (flag == 10)
                r.has_mailbox = value;
            else if (flag == 8)
                r.mailbox_enabled = value;
            else {
                *error = "unknown flag " + std::to_string(flag);
                return std::nullopt;
            }
        }
    }
    std::string_view f;
    if (!take_capped_field(v, &pos, kMaxPasswordBytes, "password", &f, error))
        return std::nullopt;
    r.password = std::string(f);
    if (!take_capped_field(v, &pos, kMaxDirectoryBytes, "directory", &f, error))
        return std::nullopt;
    r.directory = std::string(f);
    for (;;) {
        if (!take_capped_field(v, &pos, kMaxForwardBytes, "forwards", &f, error))
            return std::nullopt;
        if (f.empty())
            break;
        r.forwards.emplace_back(f);
    }
    if (!take_capped_field(v, &pos, kMaxPersonalBytes, "personal", &f, error))
        return std::nullopt;
    r.personal = std::string(f);
    uint32_t *numbers[] = {&r.hardquota, &r.softquota, &r.msgsize, &r.msgcount, &r.ctime, &r.expiry};
    static const char *names[] = {"hardquota", "softquota", "msgsize", "msgcount", "ctime", "expiry"};
    for (size_t i = 0; i < 6; i++) {
        if (!take_field(v, &pos, &f)) {
            *error = std::string("record ends before the ") + names[i] + " field";
            return std::nullopt;
        }
        if (!field_fits(f, kMaxNumberBytes, names[i], error))
            return std::nullopt;
        if (!parse_number(f, numbers[i])) {
            *error = std::string(names[i]) + " field '" + std::string(f) + "' is not a number";
            return std::nullopt;
        }
    }
    if (pos != v.size()) {
        *error = std::to_string(v.size() - pos) + " trailing bytes after the expiry field";
        return std::nullopt;
    }
    if (r.version == 1)
        r.has_mailbox = !r.directory.empty();
    if (r.directory.empty())
        r.has_mailbox = false;
    return r;
}

std::optional<Record> decode_colon(std::string_view v, const Limits &defaults, std::string *error)
{
    // ":password:destination"
    size_t colon = v.find(':', 1);
    if (colon == std::string_view::npos) {
        *error = "old-style record has no destination";
        return std::nullopt;
    }
    if (v.find('\0') != std::string_view::npos) {
        *error = "old-style record contains a NUL byte";
        return std::nullopt;
    }
    if (!field_fits(v.substr(1, colon - 1), kMaxPasswordBytes, "password", error))
        return std::nullopt;
    Record r;
    r.version = 0;
    r.password = std::string(v.substr(1, colon - 1));
    std::string_view dest = v.substr(colon + 1);
    if (!dest.empty() && (dest[0] == '.' || dest[0] == '/')) {
        if (!field_fits(dest, kMaxDirectoryBytes, "directory", error))
            return std::nullopt;
        r.directory = std::string(dest);
    } else {
        if (!dest.empty() && dest[0] == '&')
            dest.remove_prefix(1);
        size_t pos = 0;
        while (pos <= dest.size()) {
            size_t comma = dest.find(',', pos);
            std::string_view one = dest.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
            if (!field_fits(one, kMaxForwardBytes, "forwards", error))
                return std::nullopt;
            if (!one.empty())
                r.forwards.emplace_back(one);
            if (comma == std::string_view::npos)
                break;
            pos = comma + 1;
        }
    }
    r.has_mailbox = !r.directory.empty();
    r.hardquota = defaults.hardquota;
    r.softquota = defaults.softquota;
    r.msgsize = defaults.msgsize;
    r.msgcount = defaults.msgcount;
    r.expiry = defaults.expiry;
    r.ctime = 0;
    return r;
}

}  // namespace

bool parse_number(std::string_view f, uint32_t *out)
{
    size_t i = 0;
    while (i < f.size() && (f[i] == ' ' || f[i] == '\t' || f[i] == '\n' || f[i] == '\r' ||
                            f[i] == '\v' || f[i] == '\f'))
        i++;
    f.remove_prefix(i);
    if (f.empty()) {
        *out = 0;
        return true;
    }
    bool unlimited = f[0] == '-';
    if (unlimited)
        f.remove_prefix(1);
    uint64_t v = 0;
    for (char c : f) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
        if (v > kUnlimited)
            return false;
    }
    *out = unlimited ? kUnlimited : static_cast<uint32_t>(v);
    return true;
}

std::optional<uint64_t> limit(uint32_t v)
{
    if (v == kUnlimited)
        return std::nullopt;
    return v;
}


std::string number_to_string(uint32_t v) { return v == kUnlimited ? "-" : std::to_string(v); }

std::optional<Record> decode_record(std::string_view value, const Limits &defaults, std::string *error)
{
    if (value.empty()) {
        *error = "empty record";
        return std::nullopt;
    }
    if (value.size() > kMaxRecordBytes) {
        *error = "record is " + std::to_string(value.size()) + " bytes, over the limit of " +
                 std::to_string(kMaxRecordBytes);
        return std::nullopt;
    }
    switch (value[0]) {
    case 1:
    case 2:
        return decode_binary(value, error);
    case ':':
        return decode_colon(value, defaults, error);
    default:
        *error = "unknown record version byte " + std::to_string(static_cast<unsigned char>(value[0]));
        return std::nullopt;
    }
}

bool is_space(char c) { return vmailmgr_paths::is_config_space(c); }

std::string_view rstrip(std::string_view s)
{
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

std::string_view strip(std::string_view s)
{
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    return rstrip(s);
}

namespace {

// Calls f(line) for each '\n'-terminated line (the last one may lack its '\n'), with its
// trailing white space removed, as vmailmgr's list_table and map_table read qmail's files
// (fdibuf::getline, then mystring::rstrip): "example.org \r" is "example.org".
template <typename F> void for_each_stripped_line(std::string_view text, F f)
{
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        f(rstrip(line));
    }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> virtualdomains_lines(std::string_view text)
{
    std::vector<std::pair<std::string, std::string>> lines;
    for_each_stripped_line(text, [&](std::string_view line) {
        // map_table: split at the first ':', which must not be the first character
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            return;
        std::string key = ascii_lower(line.substr(0, colon));
        // user@domain keys are qmail's, not domains checkvpw is given
        if (key.find('@') != std::string::npos)
            return;
        lines.emplace_back(std::move(key), std::string(line.substr(colon + 1)));
    });
    return lines;
}

std::map<std::string, std::string> parse_virtualdomains(std::string_view text)
{
    std::map<std::string, std::string> vd;
    for (auto &[key, prefix] : virtualdomains_lines(text))
        vd[key] = std::move(prefix);  // a later line replaces an earlier one, even with ""
    return vd;
}

std::vector<std::string> parse_locals(std::string_view text)
{
    std::vector<std::string> locals;
    for_each_stripped_line(text, [&](std::string_view line) { locals.emplace_back(line); });
    return locals;
}

bool locals_contains(std::string_view text, std::string_view domain)
{
    bool found = false;
    for_each_stripped_line(text, [&](std::string_view line) { found = found || line == domain; });
    return found;
}

std::optional<std::string> find_virtual_prefix(const std::map<std::string, std::string> &vd,
                                               const std::string &domain_in)
{
    const std::string domain = ascii_lower(domain_in);
    // find_virtual(): an empty value is what the table gives for a missing key, so a line
    // with nothing after its ':' lets the search go on to the next suffix
    auto lookup = [&](const std::string &key) -> const std::string * {
        auto it = vd.find(key);
        return it == vd.end() || it->second.empty() ? nullptr : &it->second;
    };
    if (const std::string *p = lookup(domain))
        return *p;
    for (size_t dot = domain.find('.'); dot != std::string::npos; dot = domain.find('.', dot + 1)) {
        if (const std::string *p = lookup(domain.substr(dot)))
            return *p;
    }
    return std::nullopt;
}

std::optional<std::string> setting_value(std::string_view file_text)
{
    // config_read(): getline (up to the first '\n'), strip(), and "length() > 0"
    const std::string_view value = vmailmgr_paths::setting_text(file_text);
    if (value.empty())
        return std::nullopt;
    return std::string(value);
}

bool is_numeric_setting(std::string_view name)
{
    static const char *const numeric[] = {"default-expiry",    "default-msgcount",  "default-msgsize",
                                          "default-hardquota", "default-softquota", "user-dir-bits",
                                          "user-dir-slices"};
    for (const char *n : numeric)
        if (name == n)
            return true;
    return false;
}

bool setting_number(std::string_view value, uint32_t *out, bool *too_large)
{
    *too_large = false;
    value = strip(value);
    if (!value.empty() && value[0] == '-') {
        *out = kUnlimited;
        return true;
    }
    size_t digits = 0;
    uint64_t v = 0;
    while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9') {
        v = v * 10 + static_cast<unsigned>(value[digits] - '0');
        if (v > kUnlimited) {
            *too_large = true;
            v = kUnlimited;
        }
        digits++;
    }
    if (digits == 0)
        return false;  // read_uns: strtou() consumed nothing, the setting is unset at this level
    *out = static_cast<uint32_t>(v);
    return true;
}

SplitLogin split_login(std::string_view login, std::string_view separators)
{
    SplitLogin s;
    size_t sep = separators.empty() ? std::string_view::npos : login.find_first_of(separators);
    if (sep == std::string_view::npos) {
        s.name = std::string(login);
        return s;
    }
    s.name = std::string(login.substr(0, sep));
    s.domain = std::string(login.substr(sep + 1));
    return s;
}

PasswordCheck classify_password(std::string_view stored)
{
    PasswordCheck c;
    if (stored.empty() || stored == "*") {
        c.never = true;
        return c;
    }
    if (stored.size() == 33 && stored[0] == '3') {
        // checkvpw compares "3" + lowercase hex MD5; anything else there never matches
        for (char ch : stored.substr(1))
            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
                c.never = true;
                return c;
            }
        c.scheme = "PLAIN-MD5";
        c.hash = std::string(stored.substr(1));
        return c;
    }
    if (stored.compare(0, 3, "$0$") == 0) {
        if (stored.size() == 3) {
            c.never = true;  // empty plaintext: an empty password never logs in
            return c;
        }
        c.scheme = "PLAIN";
        c.hash = std::string(stored.substr(3));
        return c;
    }
    c.scheme = "CRYPT";
    c.hash = std::string(stored);
    return c;
}

bool resolve_directory(const std::string &base_home, std::string_view dir, std::string *out,
                       std::string *error)
{
    for (char c : dir)
        if (static_cast<unsigned char>(c) < 0x20) {
            *error = "directory contains a control character";
            return false;
        }
    const bool absolute = !dir.empty() && dir[0] == '/';
    std::string path = absolute ? "" : base_home;
    size_t pos = 0;
    while (pos < dir.size()) {
        size_t slash = dir.find('/', pos);
        std::string_view part = dir.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
        pos = slash == std::string_view::npos ? dir.size() : slash + 1;
        if (part.empty() || part == ".")
            continue;
        if (part == "..") {
            *error = "directory '" + std::string(dir) + "' leaves the base user's home";
            return false;
        }
        path += '/';
        path += part;
    }
    if (path.empty() || path == base_home) {
        *error = "directory '" + std::string(dir) + "' names no mailbox";
        return false;
    }
    *out = std::move(path);
    return true;
}

}  // namespace vstore::vmailmgr
