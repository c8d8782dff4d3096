#include <gtest/gtest.h>

#include "vpopmail_format.h"

using namespace vstore::vpopmail;

TEST(VpopmailLogin, SeparatorsInPriorityOrder)
{
    auto p = parse_login("Alice@Example.COM");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.user, "alice");
    EXPECT_EQ(p.domain, "example.com");
    p = parse_login("alice%example.com");
    EXPECT_EQ(p.domain, "example.com");
    p = parse_login("alice/example.com");
    EXPECT_EQ(p.user, "alice");
    EXPECT_EQ(p.domain, "example.com");
    // '@' wins over '%' and '/': they stay in the user part, where '/' is allowed and '%' is not
    p = parse_login("a/b@example.com");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.user, "a/b");
    EXPECT_FALSE(parse_login("a%b@example.com").ok);
}

TEST(VpopmailLogin, NoOrEmptyDomain)
{
    auto p = parse_login("ALICE");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.user, "alice");
    EXPECT_EQ(p.domain, "");
    p = parse_login("alice@");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.domain, "");
}

TEST(VpopmailLogin, InvalidCharactersAndShapes)
{
    EXPECT_FALSE(parse_login("al ice@example.com").ok);
    EXPECT_FALSE(parse_login("ali:ce@example.com").ok);
    EXPECT_FALSE(parse_login("alice@exa_mple.com").ok);
    EXPECT_FALSE(parse_login("alice@example.com@example.com").ok);
    EXPECT_FALSE(parse_login("@example.com").ok);
    EXPECT_FALSE(parse_login("").ok);
    EXPECT_FALSE(parse_login(std::string("al\0ce@example.com", 17)).ok);
    EXPECT_FALSE(parse_login("alice\r\n@example.com").ok);
    EXPECT_FALSE(parse_login("j\xc3\xb6hn@example.com").ok);
    EXPECT_FALSE(parse_login("alice@../../etc").ok);
    // every punctuation vpopmail allows
    EXPECT_TRUE(parse_login("a!#$&'*+-./=?^_`{|}~z@example.com").ok);
}

TEST(VpopmailLogin, LengthLimits)
{
    EXPECT_FALSE(parse_login(std::string(150, 'a') + "@example.com").ok);
    EXPECT_FALSE(parse_login("alice@example.com" + std::string(140, 'x')).ok);
    EXPECT_TRUE(parse_login(std::string(64, 'a') + "@example.com").ok);
    EXPECT_FALSE(parse_login(std::string(65, 'a') + "@example.com").ok);
}

TEST(VpopmailAssign, ParsesQmailNewuValue)
{
    std::string err;
    static const char raw[] = "example.com\0" "89\0" "89\0" "/home/vpopmail/domains/example.com\0" "-\0";
    std::string v(raw, sizeof(raw) - 1);
    auto r = parse_assign_value(v, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->real_domain, "example.com");
    EXPECT_EQ(r->uid, 89u);
    EXPECT_EQ(r->gid, 89u);
    EXPECT_EQ(r->dir, "/home/vpopmail/domains/example.com");
}

TEST(VpopmailAssign, RejectsMalformedValues)
{
    std::string err;
    EXPECT_FALSE(parse_assign_value(std::string("example.com\0" "89\0", 15), &err));
    EXPECT_FALSE(parse_assign_value(std::string("example.com\0" "x9\0" "89\0/d\0", 20), &err));
    EXPECT_FALSE(parse_assign_value(std::string("example.com\0" "89\0" "89\0rel/dir\0", 25), &err));
    EXPECT_FALSE(parse_assign_value(std::string("\0" "89\0" "89\0/d\0", 10), &err));
    EXPECT_FALSE(parse_assign_value("", &err));
}

TEST(VpopmailVpasswd, FullRecordWithColonsInClear)
{
    std::string err;
    auto r = parse_vpasswd_value("$1$abc$def:1:4106:Nina:/d/nina:NOQUOTA:n1:na:pw", &err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->passwd, "$1$abc$def");
    EXPECT_EQ(r->apop, "1");
    EXPECT_EQ(r->flags, 4106u);
    EXPECT_EQ(r->gecos, "Nina");
    EXPECT_EQ(r->dir, "/d/nina");
    EXPECT_EQ(r->quota, "NOQUOTA");
    EXPECT_EQ(r->clear, "n1:na:pw");
}

TEST(VpopmailVpasswd, MissingTrailingFieldsAreEmpty)
{
    std::string err;
    auto r = parse_vpasswd_value("$6$x$y:1:0:Dave:/d/dave:NOQUOTA", &err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->clear, "");
    r = parse_vpasswd_value("$6$x$y:1:", &err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->flags, 0u);
    EXPECT_EQ(r->dir, "");
    r = parse_vpasswd_value("$6$x$y:1:0:Dave:/d/dave:NOQUOTA:", &err);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->clear, "");
}

TEST(VpopmailVpasswd, RejectsCorruptRecords)
{
    std::string err;
    EXPECT_FALSE(parse_vpasswd_value("h:1:abc:g:/d:NOQUOTA", &err));
    EXPECT_NE(err.find("flags"), std::string::npos);
    EXPECT_FALSE(parse_vpasswd_value("h:1:0:g:relative/dir:NOQUOTA", &err));
    EXPECT_FALSE(parse_vpasswd_value(std::string("h:1:0:g:/d\0x:NOQUOTA", 21), &err));
    EXPECT_FALSE(parse_vpasswd_value("h:1:0:g:/d:NOQUOTA\nbob:x", &err));
    EXPECT_FALSE(parse_vpasswd_value("h:1:99999999999:g:/d:NOQUOTA", &err));
}

TEST(VpopmailVpasswd, FindsTextLineByExactName)
{
    std::string text = "al:x\nalice:h1:1:0\nalicex:h2\n";
    EXPECT_EQ(*find_vpasswd_line(text, "alice"), "h1:1:0");
    EXPECT_EQ(*find_vpasswd_line(text, "al"), "x");
    EXPECT_FALSE(find_vpasswd_line(text, "ali"));
    EXPECT_FALSE(find_vpasswd_line("bob", "bob"));
}

TEST(VpopmailLimits, DisableKeywordsSetFlags)
{
    EXPECT_EQ(parse_limits_mask("maxpopaccounts: -1\ndisable_imap\nperm_quota: 0\n"), NO_IMAP);
    EXPECT_EQ(parse_limits_mask("disable_pop\ndisable_smtp\t\ndisable_webmail:1\n"),
              NO_POP | NO_SMTP | NO_WEBMAIL);
    EXPECT_EQ(parse_limits_mask("# disable_imap\n disable_imap\ndisable_imapx\n"), 0u);
    EXPECT_EQ(parse_limits_mask(""), 0u);
}

TEST(VpopmailLimits, OverrideIgnoresDomainLimits)
{
    EXPECT_EQ(effective_flags(0, NO_IMAP), NO_IMAP);
    EXPECT_EQ(effective_flags(V_OVERRIDE, NO_IMAP), V_OVERRIDE);
    EXPECT_EQ(effective_flags(NO_POP, NO_IMAP), NO_POP | NO_IMAP);
}

namespace {
// A quota as "bytes/messages" ("-" for no limit), to compare in one line.
std::string limits(const Quota &q)
{
    return (q.bytes ? std::to_string(*q.bytes) : "-") + "/" + (q.messages ? std::to_string(*q.messages) : "-");
}
}  // namespace

TEST(VpopmailQuota, FormsVpopmailWrites)
{
    EXPECT_TRUE(parse_quota("NOQUOTA").unlimited());
    EXPECT_TRUE(parse_quota("").unlimited());
    EXPECT_TRUE(parse_quota("NO").unlimited());
    EXPECT_EQ(limits(parse_quota("5242880S")), "5242880/-");
    EXPECT_EQ(limits(parse_quota("10485760S,1000C")), "10485760/1000");
    EXPECT_EQ(limits(parse_quota("1000C")), "-/1000");
    EXPECT_EQ(limits(parse_quota("5000000")), "5000000/-");
    EXPECT_EQ(limits(parse_quota("5M")), "5242880/-");
    EXPECT_EQ(limits(parse_quota("50K")), "51200/-");
    EXPECT_EQ(limits(parse_quota("10MB")), "10485760/-");
    EXPECT_EQ(limits(parse_quota("NOQUOTA")), "-/-");
}

TEST(VpopmailQuota, InvalidValuesGiveNoRule)
{
    for (const char *bad : {"lots", "5X", "S", ",", "12,abcC", "99999999999999999999S"}) {
        Quota q = parse_quota(bad);
        EXPECT_FALSE(q.valid) << bad;
        EXPECT_EQ(limits(q), "-/-") << bad;
    }
}

TEST(VpopmailFlags, ServiceRefusalsFollowVchkpw)
{
    EXPECT_TRUE(service_refusal(NO_IMAP, "imap", false));
    EXPECT_FALSE(service_refusal(NO_IMAP, "pop3", false));
    EXPECT_FALSE(service_refusal(NO_IMAP, "imap", true));  // webmail: only NO_WEBMAIL
    EXPECT_TRUE(service_refusal(NO_POP, "pop3", false));
    EXPECT_FALSE(service_refusal(NO_POP, "pop3", true));
    EXPECT_TRUE(service_refusal(NO_WEBMAIL, "imap", true));
    EXPECT_TRUE(service_refusal(NO_WEBMAIL, "POP3", true));
    EXPECT_FALSE(service_refusal(NO_WEBMAIL, "imap", false));
    EXPECT_TRUE(service_refusal(NO_SMTP, "smtp", false));
    EXPECT_TRUE(service_refusal(NO_SMTP, "smtp", true));  // SMTP is never webmail
    EXPECT_TRUE(service_refusal(NO_SMTP, "submission", false));
    EXPECT_FALSE(service_refusal(NO_POP | NO_IMAP | NO_SMTP | NO_WEBMAIL, "doveadm", false));
    auto why = service_refusal(NO_POP | NO_IMAP, "imap", false);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("NO_IMAP"), std::string::npos);
}

TEST(VpopmailHash, SchemePrefix)
{
    EXPECT_EQ(split_scheme("$1$salt$hash").scheme, "CRYPT");
    EXPECT_EQ(split_scheme("$1$salt$hash").hash, "$1$salt$hash");
    StoredHash h = split_scheme("{SHA512-CRYPT}$6$s$h");
    EXPECT_EQ(h.scheme, "SHA512-CRYPT");
    EXPECT_EQ(h.hash, "$6$s$h");
    EXPECT_EQ(split_scheme("{}x").scheme, "CRYPT");
    EXPECT_EQ(split_scheme("{broken").hash, "{broken");
}

TEST(VpopmailFlags, Names)
{
    EXPECT_EQ(flags_to_string(0), "none");
    EXPECT_EQ(flags_to_string(4106), "NO_POP|NO_IMAP|QA_ADMIN");
    EXPECT_EQ(flags_to_string(0x100000), "0x100000");
}
