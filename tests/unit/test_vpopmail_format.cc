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

TEST(VpopmailVpasswd, FieldsAndRecordsOverTheirCapsAreRejectedWithTheirSizes)
{
    std::string err;
    const std::string at_cap(kMaxFieldBytes, 'x');
    EXPECT_TRUE(parse_vpasswd_value(at_cap + ":1:0:" + at_cap + ":/" + std::string(kMaxFieldBytes - 1, 'd') + ":NOQUOTA",
                                    &err))
        << err;
    struct {
        std::string value;
        const char *reason;
    } cases[] = {
        {std::string(kMaxFieldBytes + 1, 'p') + ":1:0:g:/d:NOQUOTA", "pw_passwd is 1025 bytes"},
        {"p:1:0:" + std::string(kMaxFieldBytes + 1, 'g') + ":/d:NOQUOTA", "pw_gecos is 1025 bytes"},
        {"p:1:0:g:/" + std::string(kMaxFieldBytes, 'd') + ":NOQUOTA", "pw_dir is 1025 bytes"},
        {"p:1:0:g:/d:" + std::string(kMaxFieldBytes + 1, '1'), "pw_shell is 1025 bytes"},
        {"p:1:0:g:/d:NOQUOTA:" + std::string(kMaxFieldBytes + 1, 'c'), "pw_clear_passwd is 1025 bytes"},
        {"p:1:0:g:/" + std::string(20 << 20, 'd') + ":NOQUOTA", "record is 20971537 bytes, over the limit of 4096"},
    };
    for (const auto &c : cases) {
        err.clear();
        EXPECT_FALSE(parse_vpasswd_value(c.value, &err)) << c.reason;
        EXPECT_NE(err.find(c.reason), std::string::npos) << "got: " << err << " want: " << c.reason;
    }
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

TEST(VpopmailLimits, LinesEndAtCrOrLf)
{
    // vlimits_read_limits_file() splits at '\r' or '\n': a CR-only file has every line, and
    // a CR ends a comment
    EXPECT_EQ(parse_limits_mask("disable_pop\rdisable_imap\r"), NO_POP | NO_IMAP);
    EXPECT_EQ(parse_limits_mask("disable_pop\r\ndisable_smtp\r\n"), NO_POP | NO_SMTP);
    EXPECT_EQ(parse_limits_mask("# comment\rdisable_webmail"), NO_WEBMAIL);
    // a flag keyword stands alone: a value after it does not undo it
    EXPECT_EQ(parse_limits_mask("disable_imap 0\n"), NO_IMAP);
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
    // format_maildirquota() makes "" of these (no size and no count): vdelivermail checks nothing
    for (const char *bad : {"lots", "S", ",", ",,", "0", "0S,0C", "abcC", "-", "C"}) {
        Quota q = parse_quota(bad);
        EXPECT_FALSE(q.valid) << bad;
        EXPECT_EQ(limits(q), "-/-") << bad;
    }
}

TEST(VpopmailQuota, OnlyUpperCaseCCounts)
{
    // format_maildirquota(): p[i] == 'C' only; "1000c" goes the size way, and a later size
    // part replaces an earlier one
    EXPECT_EQ(limits(parse_quota("1000c")), "1000/-");
    EXPECT_EQ(limits(parse_quota("5000000S,1000c")), "1000/-");
    EXPECT_EQ(limits(parse_quota("5000000S,1000C")), "5000000/1000");
    EXPECT_EQ(limits(parse_quota("1000C,10MBS")), "10485760/1000");
    EXPECT_EQ(limits(parse_quota("1mbs,1000C")), "1048576/1000");
    EXPECT_EQ(limits(parse_quota("1000C,2000C")), "-/2000");
}

TEST(VpopmailQuota, NumbersAsStrtoll)
{
    // leading white space and a sign are read, the first other character ends the number
    EXPECT_EQ(limits(parse_quota(" \t5M")), "5242880/-");
    EXPECT_EQ(limits(parse_quota("+5M")), "5242880/-");
    EXPECT_EQ(limits(parse_quota("12abcC")), "-/12");
    EXPECT_EQ(limits(parse_quota("5X")), "5/-");
    EXPECT_EQ(limits(parse_quota("12 kB")), "12288/-");  // the unit is the last character
    EXPECT_EQ(limits(parse_quota("12,abcC")), "12/-");
    EXPECT_EQ(limits(parse_quota(",,1000C,,")), "-/1000");  // strtok skips empty parts
    EXPECT_EQ(limits(parse_quota("0S,100C")), "-/100");
    EXPECT_EQ(limits(parse_quota("100S,0C")), "100/-");
    // uint64_t arithmetic: LLONG_MAX from an overflow, a wrap past 2^64 ((2^44 + 1) MiB is
    // 1 MiB), and a negative number that becomes a limit beyond any mailbox (none for Dovecot)
    EXPECT_EQ(limits(parse_quota("99999999999999999999S")), "9223372036854775807/-");
    EXPECT_EQ(limits(parse_quota("17592186044417M")), "1048576/-");
    Quota negative = parse_quota("-5S,100C");
    EXPECT_TRUE(negative.valid);
    EXPECT_EQ(limits(negative), "-/100");
    // the field is read as a 127-character C string
    EXPECT_EQ(limits(parse_quota(std::string(125, ' ') + "50M")), "50/-");  // the M is cut off
    EXPECT_EQ(limits(parse_quota(std::string("5M\0,100C", 8))), "5242880/-");
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

TEST(VpopmailHash, SchemePrefixIsStripped)
{
    EXPECT_EQ(crypt_part("$1$salt$hash"), "$1$salt$hash");
    EXPECT_EQ(crypt_part("{SHA512-CRYPT}$6$s$h"), "$6$s$h");
    EXPECT_EQ(crypt_part("{PLAIN}secret"), "secret");
    EXPECT_EQ(crypt_part("{}x"), "x");
    EXPECT_EQ(crypt_part("{broken"), "{broken");
}

TEST(VpopmailFlags, Names)
{
    EXPECT_EQ(flags_to_string(0), "none");
    EXPECT_EQ(flags_to_string(4106), "NO_POP|NO_IMAP|QA_ADMIN");
    EXPECT_EQ(flags_to_string(0x100000), "0x100000");
}
