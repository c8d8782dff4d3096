// vpopmail's MySQL backend, the parts that are plain data: the connection file, the queries
// vchkpw runs (as text, values escaped by the caller's SQL layer) and what a row means. The
// queries themselves run in Dovecot's SQL layer (compat/); the rules stay VpopmailStore's.
// Facts: docs/formats.md part III.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vpopmail_format.h"

namespace vstore::vpopmail_sql {

struct Connection {
    std::string host;    // empty: the client's default
    unsigned port = 0;   // 0: the client's default
    std::string socket;  // a unix socket path (vpopmail: the port field starting with '/')
    std::string user, password, database;
};

// <vpopmail_dir>/etc/vpopmail.mysql: "host|port-or-socket|user|password|database" lines, '#'
// and empty lines skipped. The first is the read connection; a second, the update connection
// (vpopmail without replication sends everything through it); without one, the first serves both.
struct ConnectionFile {
    Connection read, update;
};
std::optional<ConnectionFile> parse_connection_file(std::string_view text, std::string *error);

// The table of a domain when every domain has its own (--disable-many-domains): the domain
// with '.' and '-' made '_' (vauth_munch_domain).
std::string munch_domain(std::string_view domain);

// A statement with '?' where a value goes: the SQL layer binds (and escapes) the values.
struct Statement {
    std::string text;
    std::vector<std::string> values;
};

// A result row's column by name; nullopt for SQL NULL or a column the row does not have.
using Row = std::function<std::optional<std::string>(const char *column)>;

struct Layout {
    bool many_domains = true;  // one `vpopmail` table with pw_domain; else a table per domain
    bool limits_table = false;  // --enable-mysql-limits: the domain's row of `limits`
};

// Why a real domain has no table name in the per-domain layout (its munched name would need
// quoting: only letters, digits and '_' pass); nullopt when it has one.
std::optional<std::string> table_refusal(std::string_view real_domain);

// vauth_getpw's query for a user of a real domain (both lower-cased by the caller), with the
// domain's `limits` row joined in when the layout has that table (one round trip; its column
// `limits_domain` is NULL when the domain has no row). Every column of the user's table is
// read, so that pw_clear_passwd comes when the table has it (--enable-clear-passwd).
Statement user_statement(const Layout &layout, std::string_view user, std::string_view real_domain);

// Several users of one table (many_domains=yes, or one domain's table) in one round trip:
// each one's user_statement(), tagged with its index in keys as column kRequestColumn and
// joined by UNION ALL, so that the server matches each name exactly as for it alone.
struct UserKey {
    std::string user, real_domain;
};
constexpr const char *kRequestColumn = "vstore_request";
Statement users_statement(const Layout &layout, const std::vector<UserKey> &keys);

// The longest column value the SQL layer copies out of a result (compat/dovecot_sql.cc): a
// whole record's worth. A longer one is never copied: the row answers kOversizedColumn with
// oversized_column_reason() instead, and record_from_row() makes that a store fault of the
// user, so that what a domain's admin writes into a row does not choose an allocation.
constexpr size_t kMaxColumnBytes = vpopmail::kMaxRecordBytes;
constexpr const char *kOversizedColumn = "vstore_oversized";
std::string oversized_column_reason(std::string_view column, size_t size);

// The row as vpasswd fields (NULL columns are empty, as vpopmail copies them). The flags are
// pw_gid; pw_uid is vpopmail's unused "apop" value. A row with a column over kMaxColumnBytes
// is refused with the reason kOversizedColumn gives.
std::optional<vpopmail::VpasswdRecord> record_from_row(const Row &row, std::string *error);

// The flag bits of the joined limits row; nullopt when the domain has no row (vlimits.default
// applies then, as in vget_limits).
std::optional<uint32_t> limits_mask_from_row(const Row &row);

// vset_lastauth after a successful login.
Statement lastauth_statement(std::string_view user, std::string_view real_domain, std::string_view remote_ip,
                             time_t now);
// The same for several logins in one statement (a row each, in order: a later row of the
// same user wins, as a later statement would).
struct LastauthRow {
    std::string user, real_domain, remote_ip;
    time_t now = 0;
};
Statement lastauth_statement(const std::vector<LastauthRow> &rows);

// The users of a real domain, for iteration: rows with column pw_name.
Statement list_statement(const Layout &layout, std::string_view real_domain);

}  // namespace vstore::vpopmail_sql
