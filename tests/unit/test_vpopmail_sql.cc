#include <gtest/gtest.h>

#include <map>

#include "vpopmail_sql.h"

using namespace vstore;
using namespace vstore::vpopmail_sql;

namespace {

Row row_of(const std::map<std::string, std::optional<std::string>> &m)
{
    return [m](const char *name) -> std::optional<std::string> {
        auto it = m.find(name);
        return it == m.end() ? std::nullopt : it->second;
    };
}

}  // namespace

TEST(VpopmailSql, ConnectionFileAsVpopmailReadsIt)
{
    std::string err;
    auto f = parse_connection_file("# comment\n\nlocalhost|/run/mysqld/mysqld.sock|ro|Ro-pw|vpopmail\r\n"
                                   "db.example|3307|rw|Rw|pw|vpopmail\n",
                                   &err);
    EXPECT_FALSE(f) << "a '|' in a password cannot be written";
    f = parse_connection_file("# comment\n\nlocalhost|/run/mysqld/mysqld.sock|ro|Ro-pw|vpopmail\r\n"
                              "db.example|3307x|rw|Rw-pw|vpopmail\n",
                              &err);
    ASSERT_TRUE(f) << err;
    EXPECT_EQ(f->read.socket, "/run/mysqld/mysqld.sock");
    EXPECT_EQ(f->read.port, 0u);
    EXPECT_EQ(f->read.user, "ro");
    EXPECT_EQ(f->update.host, "db.example");
    EXPECT_EQ(f->update.port, 3307u);  // atoi()
    EXPECT_EQ(f->update.password, "Rw-pw");
    // one line serves both
    f = parse_connection_file("localhost|0|u|p|db\n", &err);
    ASSERT_TRUE(f) << err;
    EXPECT_EQ(f->update.user, "u");
    EXPECT_FALSE(parse_connection_file("# only a comment\n", &err));
    EXPECT_FALSE(parse_connection_file("h|0|u|p|\n", &err));
}

TEST(VpopmailSql, QueriesBindEveryValue)
{
    Layout many{true, true};
    Statement st = user_statement(many, "o'neil\\", "ex.com");
    EXPECT_EQ(st.values, (std::vector<std::string>{"ex.com", "o'neil\\", "ex.com"}));
    EXPECT_EQ(st.text.find("o'neil"), std::string::npos);
    EXPECT_NE(st.text.find("FROM `vpopmail` u LEFT JOIN `limits` l ON l.domain = ?"), std::string::npos) << st.text;
    Layout per_domain{false, false};
    st = user_statement(per_domain, "anna", "pd-one.org");
    EXPECT_NE(st.text.find("FROM `pd_one_org` u WHERE u.pw_name = ?"), std::string::npos) << st.text;
    EXPECT_EQ(st.values, (std::vector<std::string>{"anna"}));
    EXPECT_EQ(table_refusal("pd-one.org"), std::nullopt);
    EXPECT_TRUE(table_refusal("we`ird.org"));
    EXPECT_TRUE(table_refusal("\xc3\xa9t\xc3\xa9.org"));
    st = lastauth_statement("anna", "ex.com", "127.0.0.2", 1700000000);
    EXPECT_EQ(st.text, "REPLACE INTO `lastauth` (user, domain, remote_ip, timestamp) VALUES (?, ?, ?, 1700000000)");
}

TEST(VpopmailSql, SeveralLookupsInOneStatement)
{
    // each lookup's own query, tagged, in a UNION ALL: the server compares each name as alone
    Layout many{true, true};
    Statement one = user_statement(many, "anna", "ex.com");
    Statement st = users_statement(many, {{"anna", "ex.com"}, {"o'neil", "ex.org"}});
    const std::string tagged0 = "SELECT 0 AS vstore_request, " + one.text.substr(std::string("SELECT ").size());
    EXPECT_EQ(st.text.find("(" + tagged0 + ") UNION ALL (SELECT 1 AS vstore_request, u.*"), 0u) << st.text;
    EXPECT_EQ(st.values, (std::vector<std::string>{"ex.com", "anna", "ex.com", "ex.org", "o'neil", "ex.org"}));
    EXPECT_EQ(st.text.find("o'neil"), std::string::npos);
    Layout per_domain{false, false};
    st = users_statement(per_domain, {{"anna", "pd-one.org"}, {"bob", "pd-one.org"}});
    EXPECT_EQ(st.text, "(SELECT 0 AS vstore_request, u.* FROM `pd_one_org` u WHERE u.pw_name = ?) UNION ALL "
                       "(SELECT 1 AS vstore_request, u.* FROM `pd_one_org` u WHERE u.pw_name = ?)");
}

TEST(VpopmailSql, RowsAsVpasswdRecords)
{
    std::string err;
    auto r = record_from_row(row_of({{"pw_passwd", "$6$x$y"},
                                     {"pw_uid", "0"},
                                     {"pw_gid", "8"},
                                     {"pw_gecos", "Anna"},
                                     {"pw_dir", "/d/anna"},
                                     {"pw_shell", "NOQUOTA"},
                                     {"pw_clear_passwd", std::nullopt}}),
                             &err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->flags, 8u);
    EXPECT_EQ(r->clear, "");  // NULL, as vpopmail copies it
    EXPECT_EQ(r->dir, "/d/anna");
    EXPECT_FALSE(record_from_row(row_of({{"pw_gid", "x8"}}), &err));
    EXPECT_FALSE(record_from_row(row_of({{"pw_gid", "0"}, {"pw_dir", "relative"}}), &err));
    EXPECT_FALSE(record_from_row(row_of({{"pw_gid", "0"}, {"pw_passwd", std::string("a\0b", 3)}}), &err));
    EXPECT_TRUE(record_from_row(row_of({{"pw_gid", std::nullopt}}), &err)) << err;  // NULL flags: 0
    // a vpasswd field's size cap holds for its column
    EXPECT_TRUE(record_from_row(row_of({{"pw_gid", "0"}, {"pw_dir", "/" + std::string(1023, 'd')}}), &err)) << err;
    EXPECT_FALSE(record_from_row(row_of({{"pw_gid", "0"}, {"pw_dir", "/" + std::string(20 << 20, 'd')}}), &err));
    EXPECT_NE(err.find("pw_dir is 20971521 bytes, over the limit of 1024"), std::string::npos) << err;
    EXPECT_FALSE(record_from_row(row_of({{"pw_gid", "0"}, {"pw_gecos", std::string(1025, 'g')}}), &err));
    EXPECT_NE(err.find("pw_gecos is 1025 bytes"), std::string::npos) << err;
}

// A column over kMaxColumnBytes is not copied by the SQL layer (compat/dovecot_sql.cc): the
// row answers kOversizedColumn with the reason, and the user's row is a store fault naming
// the column and its size, whatever the other columns hold.
TEST(VpopmailSql, OversizedColumnIsAFaultOfTheRow)
{
    std::string err;
    const std::string why = oversized_column_reason("pw_shell", 20 << 20);
    EXPECT_EQ(why, "column pw_shell is 20971520 bytes, over the limit of 4096 for any column (not read)");
    EXPECT_FALSE(record_from_row(row_of({{"pw_gid", "0"}, {"pw_passwd", "$6$x$y"}, {kOversizedColumn, why}}), &err));
    EXPECT_EQ(err, why);
    EXPECT_GE(kMaxColumnBytes, vpopmail::kMaxFieldBytes);  // a field the record allows is copied
}

TEST(VpopmailSql, LimitsRowOrNone)
{
    EXPECT_EQ(limits_mask_from_row(row_of({{"limits_domain", std::nullopt}})), std::nullopt);
    auto mask = limits_mask_from_row(row_of({{"limits_domain", "limited.test"},
                                             {"limits_disable_imap", "1"},
                                             {"limits_disable_smtp", "1"},
                                             {"limits_disable_pop", "0"}}));
    ASSERT_TRUE(mask);
    EXPECT_EQ(*mask, vpopmail::NO_IMAP | vpopmail::NO_SMTP);
}
