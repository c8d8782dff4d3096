#include "vpopmail_sql.h"

#include "file_util.h"

namespace vstore::vpopmail_sql {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep)
{
    std::vector<std::string_view> out;
    size_t pos = 0;
    for (;;) {
        size_t end = s.find(sep, pos);
        out.push_back(s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
        if (end == std::string_view::npos)
            return out;
        pos = end + 1;
    }
}

bool parse_connection(std::string_view line, Connection *out, std::string *error)
{
    const auto f = split(line, '|');
    if (f.size() != 5) {
        *error = "a connection line has 5 fields host|port|user|password|database, this one " +
                 std::to_string(f.size());
        return false;
    }
    Connection c;
    c.host = std::string(f[0]);
    if (!f[1].empty() && f[1][0] == '/') {
        c.socket = std::string(f[1]);
    } else {
        // vpopmail reads the port with atoi(): digits up to the first other character
        unsigned long port = 0;
        for (size_t i = 0; i < f[1].size() && f[1][i] >= '0' && f[1][i] <= '9' && port <= 65535; i++)
            port = port * 10 + static_cast<unsigned>(f[1][i] - '0');
        if (port > 65535) {
            *error = "port '" + std::string(f[1]) + "' is not a port";
            return false;
        }
        c.port = static_cast<unsigned>(port);
    }
    c.user = std::string(f[2]);
    c.password = std::string(f[3]);
    c.database = std::string(f[4]);
    if (c.database.empty()) {
        *error = "a connection line names no database";
        return false;
    }
    *out = std::move(c);
    return true;
}

const char *const kLimitColumns[] = {"disable_pop",     "disable_imap",  "disable_dialup", "disable_passwordchanging",
                                     "disable_webmail", "disable_relay", "disable_smtp"};
const uint32_t kLimitFlags[] = {vpopmail::NO_POP,     vpopmail::NO_IMAP,  vpopmail::NO_DIALUP, vpopmail::NO_PASSWD_CHNG,
                                vpopmail::NO_WEBMAIL, vpopmail::NO_RELAY, vpopmail::NO_SMTP};

}  // namespace

std::optional<ConnectionFile> parse_connection_file(std::string_view text, std::string *error)
{
    std::vector<Connection> lines;
    for (std::string_view line : split(text, '\n')) {
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty() || line[0] == '#')
            continue;
        Connection c;
        if (!parse_connection(line, &c, error)) {
            *error = "line " + std::to_string(lines.size() + 1) + ": " + *error;
            return std::nullopt;
        }
        lines.push_back(std::move(c));
        if (lines.size() == 2)
            break;
    }
    if (lines.empty()) {
        *error = "no connection line";
        return std::nullopt;
    }
    return ConnectionFile{lines[0], lines.back()};
}

std::string munch_domain(std::string_view domain)
{
    std::string out(domain);
    for (char &c : out)
        if (c == '.' || c == '-')
            c = '_';
    return out;
}

std::optional<std::string> table_refusal(std::string_view real_domain)
{
    const std::string table = munch_domain(real_domain);
    for (char c : table)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return "domain " + std::string(real_domain) + " has no table name this driver uses: '" + table +
                   "' holds other characters than letters, digits and '_'";
    if (table.empty() || table.size() > 64)
        return "domain " + std::string(real_domain) + " gives no valid table name";
    return std::nullopt;
}

namespace {

// user_statement(), its SELECT starting with `prefix` ("SELECT " or a tagged one)
Statement user_select(const Layout &layout, std::string_view user, std::string_view real_domain,
                      const std::string &prefix)
{
    Statement st;
    // The user's columns first, by name; the limits row's columns after, prefixed.
    std::string select = prefix + "u.*";
    std::string join;
    if (layout.limits_table) {
        select += ", l.domain AS limits_domain";
        for (const char *c : kLimitColumns)
            select += std::string(", l.") + c + " AS limits_" + c;
        join = " LEFT JOIN `limits` l ON l.domain = ?";
        st.values.emplace_back(real_domain);
    }
    if (layout.many_domains) {
        st.text = select + " FROM `vpopmail` u" + join + " WHERE u.pw_name = ? AND u.pw_domain = ?";
        st.values.emplace_back(user);
        st.values.emplace_back(real_domain);
    } else {
        // the caller checked table_refusal(): the name needs no quoting inside the backticks
        st.text = select + " FROM `" + munch_domain(real_domain) + "` u" + join + " WHERE u.pw_name = ?";
        st.values.emplace_back(user);
    }
    return st;
}

}  // namespace

Statement user_statement(const Layout &layout, std::string_view user, std::string_view real_domain)
{
    return user_select(layout, user, real_domain, "SELECT ");
}

Statement users_statement(const Layout &layout, const std::vector<UserKey> &keys)
{
    Statement st;
    for (size_t i = 0; i < keys.size(); i++) {
        Statement one = user_select(layout, keys[i].user, keys[i].real_domain,
                                    "SELECT " + std::to_string(i) + " AS " + kRequestColumn + ", ");
        st.text += (i == 0 ? "(" : " UNION ALL (") + one.text + ")";
        for (std::string &v : one.values)
            st.values.push_back(std::move(v));
    }
    return st;
}

std::string oversized_column_reason(std::string_view column, size_t size)
{
    return "column " + std::string(column.substr(0, 64)) + " is " + std::to_string(size) +
           " bytes, over the limit of " + std::to_string(kMaxColumnBytes) + " for any column (not read)";
}

std::optional<vpopmail::VpasswdRecord> record_from_row(const Row &row, std::string *error)
{
    if (auto why = row(kOversizedColumn)) {
        *error = std::move(*why);
        return std::nullopt;
    }
    // The columns of a vpasswd line, in its order: to every other tool they are its fields,
    // so they get a line's checks (sizes, no NUL or newline).
    static const char *const columns[] = {"pw_passwd", "pw_uid", "pw_gid",         "pw_gecos",
                                          "pw_dir",    "pw_shell", "pw_clear_passwd"};
    std::string fields[7];
    for (size_t i = 0; i < 7; i++) {
        fields[i] = row(columns[i]).value_or(std::string());
        if (auto why = vpopmail::field_size_refusal(columns[i], fields[i])) {
            *error = "column " + *why;
            return std::nullopt;
        }
        if (fields[i].find_first_of(std::string("\0\n", 2)) != std::string::npos) {
            *error = "a column holds a NUL or newline byte";
            return std::nullopt;
        }
    }
    vpopmail::VpasswdRecord r;
    r.passwd = std::move(fields[0]);
    r.apop = std::move(fields[1]);
    const std::string &flags = fields[2];
    r.gecos = std::move(fields[3]);
    r.dir = std::move(fields[4]);
    r.quota = std::move(fields[5]);
    r.clear = std::move(fields[6]);
    uint64_t v = 0;
    bool digits = flags.size() <= 10;
    for (char c : flags) {
        digits = digits && c >= '0' && c <= '9';
        if (digits)
            v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (!digits || v > 0xffffffffULL) {
        *error = "pw_gid (the flags) '" + flags + "' is not a number";
        return std::nullopt;
    }
    r.flags = static_cast<uint32_t>(v);
    if (!r.dir.empty() && r.dir[0] != '/') {
        *error = "pw_dir '" + r.dir + "' is not an absolute path";
        return std::nullopt;
    }
    return r;
}

std::optional<uint32_t> limits_mask_from_row(const Row &row)
{
    if (!row("limits_domain"))
        return std::nullopt;
    uint32_t mask = 0;
    for (size_t i = 0; i < sizeof(kLimitFlags) / sizeof(kLimitFlags[0]); i++) {
        const auto v = row((std::string("limits_") + kLimitColumns[i]).c_str());
        if (v && !v->empty() && *v != "0")
            mask |= kLimitFlags[i];
    }
    return mask;
}

Statement lastauth_statement(std::string_view user, std::string_view real_domain, std::string_view remote_ip,
                             time_t now)
{
    return lastauth_statement({{std::string(user), std::string(real_domain), std::string(remote_ip), now}});
}

Statement lastauth_statement(const std::vector<LastauthRow> &rows)
{
    Statement st{"REPLACE INTO `lastauth` (user, domain, remote_ip, timestamp) VALUES ", {}};
    for (size_t i = 0; i < rows.size(); i++) {
        st.text += (i == 0 ? "(?, ?, ?, " : ", (?, ?, ?, ") + std::to_string(static_cast<long long>(rows[i].now)) + ")";
        st.values.push_back(rows[i].user);
        st.values.push_back(rows[i].real_domain);
        st.values.push_back(rows[i].remote_ip);
    }
    return st;
}

Statement list_statement(const Layout &layout, std::string_view real_domain)
{
    if (layout.many_domains)
        return {"SELECT pw_name FROM `vpopmail` WHERE pw_domain = ? ORDER BY pw_name", {std::string(real_domain)}};
    return {"SELECT pw_name FROM `" + munch_domain(real_domain) + "` ORDER BY pw_name", {}};
}

}  // namespace vstore::vpopmail_sql
