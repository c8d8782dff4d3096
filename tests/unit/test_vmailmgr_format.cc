#include <gtest/gtest.h>

#include "vmailmgr_format.h"

using namespace vstore::vmailmgr;

namespace {

std::string bytes(std::initializer_list<int> b)
{
    std::string s;
    for (int c : b)
        s += static_cast<char>(c);
    return s;
}

std::string z(const std::string &s) { return s + std::string(1, '\0'); }

// 0.97's record for alice from docs/formats.md II.5 ("Record formats").
std::string alice_v2()
{
    return bytes({2, 10, 1, 8, 0, 0}) + z("$1$G3teDPsk$R9f4QCjWQqbkYxJFajNPY.") + z("./users/alice") +
           z("") + z("Alice A") + z("1000000") + z("-") + z("-") + z("-") + z("1795294514") + z("-");
}

}  // namespace

TEST(VmailmgrRecord, Version2As097WritesIt)
{
    std::string err;
    auto r = decode_record(alice_v2(), Limits(), &err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->version, 2);
    EXPECT_TRUE(r->has_mailbox);
    EXPECT_FALSE(r->mailbox_enabled);
    EXPECT_EQ(r->password, "$1$G3teDPsk$R9f4QCjWQqbkYxJFajNPY.");
    EXPECT_EQ(r->directory, "./users/alice");
    EXPECT_TRUE(r->forwards.empty());
    EXPECT_EQ(r->personal, "Alice A");
    EXPECT_EQ(r->hardquota, 1000000u);
    EXPECT_EQ(r->softquota, kUnlimited);
    EXPECT_EQ(r->ctime, 1795294514u);
    EXPECT_EQ(r->expiry, kUnlimited);
}

TEST(VmailmgrRecord, Version2ForwardsAndOldFlagLayout)
{
    std::string err;
    std::string v = bytes({2, 8, 1, 0}) + z("$0$plainpw") + z("./users/Bob:Smith") + z("bob@elsewhere.org") +
                    z("alice") + z("") + z("") + z("-") + z("-") + z("-") + z("-") + z("1795294514") + z("-");
    auto r = decode_record(v, Limits(), &err);
    ASSERT_TRUE(r) << err;
    EXPECT_TRUE(r->has_mailbox);  // 0.96.5-0.96.8 wrote only flag 8
    ASSERT_EQ(r->forwards.size(), 2u);
    EXPECT_EQ(r->forwards[1], "alice");
    EXPECT_EQ(r->personal, "");
}

TEST(VmailmgrRecord, NonZeroFlagValuesAreTrueAndEmptyDirectoryMeansNoMailbox)
{
    std::string err;
    std::string tail = z("-") + z("-") + z("-") + z("-") + z("1") + z("-");
    auto r = decode_record(bytes({2, 10, 2, 8, 1, 0}) + z("pw") + z("./users/x") + z("") + z("") + tail, Limits(), &err);
    ASSERT_TRUE(r) << err;
    EXPECT_TRUE(r->has_mailbox);
    r = decode_record(bytes({2, 10, 1, 8, 1, 0}) + z("pw") + z("") + z("") + z("") + tail, Limits(), &err);
    ASSERT_TRUE(r) << err;
    EXPECT_FALSE(r->has_mailbox);
}

TEST(VmailmgrRecord, Version1)
{
    std::string err;
    std::string tail = z("2000000") + z("-") + z("-") + z("300") + z("0") + z("-");
    auto r = decode_record(bytes({1}) + z("$1$x$y") + z("./users/v1") + z("") + z("V1") + tail, Limits(), &err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->version, 1);
    EXPECT_TRUE(r->has_mailbox);
    EXPECT_TRUE(r->mailbox_enabled);
    EXPECT_EQ(r->msgcount, 300u);
    r = decode_record(bytes({1}) + z("$1$x$y") + z("") + z("a@b") + z("") + z("") + tail, Limits(), &err);
    ASSERT_TRUE(r) << err;
    EXPECT_FALSE(r->has_mailbox);
}

TEST(VmailmgrRecord, OldColonForm)
{
    std::string err;
    Limits d;
    d.hardquota = 5000;
    auto r = decode_record(":$1$a$b:./users/oldbox", d, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->version, 0);
    EXPECT_EQ(r->directory, "./users/oldbox");
    EXPECT_TRUE(r->has_mailbox);
    EXPECT_EQ(r->hardquota, 5000u);
    EXPECT_EQ(r->ctime, 0u);
    r = decode_record(":pw:&alice@example.org,bob@example.org", d, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_FALSE(r->has_mailbox);
    ASSERT_EQ(r->forwards.size(), 2u);
    EXPECT_EQ(r->forwards[0], "alice@example.org");
    r = decode_record(":pw:/abs/oldabs", d, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->directory, "/abs/oldabs");
    EXPECT_FALSE(decode_record(":nodestination", d, &err));
}

TEST(VmailmgrRecord, EveryMalformedCaseIsRejectedWithAReason)
{
    std::string good = alice_v2();
    std::string err;
    struct {
        std::string value;
        const char *reason;
    } cases[] = {
        {"", "empty record"},
        {bytes({3}) + good.substr(1), "version byte 3"},
        {bytes({2, 10, 1, 9, 1, 0}) + good.substr(6), "unknown flag 9"},
        {good + "x", "trailing bytes"},
        {good.substr(0, good.size() - 2), "before the expiry"},
        {bytes({2, 10}), "inside the flags"},
        {bytes({2, 10, 1}), "inside the flags"},
        {bytes({2, 0}) + "pw", "inside the password"},
        {bytes({2, 0}) + z("pw") + "dir", "inside the directory"},
        {bytes({2, 0}) + z("pw") + z("d") + "fwd", "inside the forwards"},
        {bytes({2, 0}) + z("pw") + z("d") + z("") + "pers", "inside the personal"},
        {bytes({2, 0}) + z("pw") + z("d") + z("") + z("p") + z("12x") + z("-") + z("-") + z("-") + z("1") + z("-"),
         "hardquota field '12x'"},
        {bytes({2, 0}) + z("pw") + z("d") + z("") + z("p") + z("99999999999") + z("-") + z("-") + z("-") + z("1") + z("-"),
         "hardquota"},
    };
    for (const auto &c : cases) {
        err.clear();
        EXPECT_FALSE(decode_record(c.value, Limits(), &err)) << c.reason;
        EXPECT_NE(err.find(c.reason), std::string::npos) << "got: " << err << " want: " << c.reason;
    }
}

TEST(VmailmgrRecord, FieldsAndRecordsOverTheirCapsAreRejectedWithTheirSizes)
{
    auto record = [](const std::string &pw, const std::string &dir, const std::string &fwd, const std::string &pers,
                     const std::string &hardquota) {
        return bytes({2, 0}) + z(pw) + z(dir) + (fwd.empty() ? "" : z(fwd)) + z("") + z(pers) + z(hardquota) +
               z("-") + z("-") + z("-") + z("1") + z("-");
    };
    std::string err;
    // at each cap: accepted
    EXPECT_TRUE(decode_record(record(std::string(kMaxPasswordBytes, 'p'), "./" + std::string(kMaxDirectoryBytes - 2, 'd'),
                                     std::string(kMaxForwardBytes, 'f'), std::string(kMaxPersonalBytes, 'n'),
                                     std::string(kMaxNumberBytes - 1, ' ') + "1"),
                              Limits(), &err))
        << err;
    struct {
        std::string value;
        const char *reason;
    } cases[] = {
        {record(std::string(kMaxPasswordBytes + 1, 'p'), "./d", "", "", "-"), "password field is 1025 bytes"},
        {record("pw", std::string(kMaxDirectoryBytes + 1, 'd'), "", "", "-"), "directory field is 4097 bytes"},
        {record("pw", "./d", std::string(kMaxForwardBytes + 1, 'f'), "", "-"), "forwards field is 1025 bytes"},
        {record("pw", "./d", "", std::string(kMaxPersonalBytes + 1, 'n'), "-"), "personal field is 4097 bytes"},
        {record("pw", "./d", "", "", std::string(kMaxNumberBytes, ' ') + "1"), "hardquota field is 65 bytes"},
        {record("pw", "./d", "", std::string(20 << 20, 'n'), "-"), "record is 20971543 bytes, over the limit of 65536"},
        {":" + std::string(kMaxPasswordBytes + 1, 'p') + ":./users/x", "password field is 1025 bytes"},
        {":pw:/" + std::string(kMaxDirectoryBytes, 'd'), "directory field is 4097 bytes"},
        {":pw:a@b," + std::string(kMaxForwardBytes + 1, 'f'), "forwards field is 1025 bytes"},
    };
    for (const auto &c : cases) {
        err.clear();
        EXPECT_FALSE(decode_record(c.value, Limits(), &err)) << c.reason;
        EXPECT_NE(err.find(c.reason), std::string::npos) << "got: " << err << " want: " << c.reason;
    }
}

TEST(VmailmgrRecord, Numbers)
{
    uint32_t v;
    ASSERT_TRUE(parse_number("  100", &v));
    EXPECT_EQ(v, 100u);
    ASSERT_TRUE(parse_number(" -", &v));
    EXPECT_EQ(v, kUnlimited);
    ASSERT_TRUE(parse_number("-1234", &v));
    EXPECT_EQ(v, kUnlimited);
    ASSERT_TRUE(parse_number("\t5", &v));
    EXPECT_EQ(v, 5u);
    ASSERT_TRUE(parse_number("", &v));
    EXPECT_EQ(v, 0u);
    EXPECT_FALSE(parse_number("5 ", &v));
    EXPECT_FALSE(parse_number("-x", &v));
    EXPECT_FALSE(parse_number("4294967296", &v));
    EXPECT_EQ(number_to_string(kUnlimited), "-");
    EXPECT_EQ(number_to_string(7), "7");
}

TEST(VmailmgrSettings, EmptyFirstLineIsUnset)
{
    // config_read(): the first line, strip()ped; empty means "not set here"
    EXPECT_FALSE(setting_value(""));
    EXPECT_FALSE(setting_value("\n"));
    EXPECT_FALSE(setting_value(" \t\r\nsecond line\n"));
    EXPECT_EQ(*setting_value("  @:% \r\n"), "@:%");
    EXPECT_EQ(*setting_value("passwd"), "passwd");
}

TEST(VmailmgrSettings, NumbersAsStrtou)
{
    uint32_t v = 0;
    bool big = false;
    ASSERT_TRUE(setting_number("12abc", &v, &big));
    EXPECT_EQ(v, 12u);
    ASSERT_TRUE(setting_number("-", &v, &big));
    EXPECT_EQ(v, kUnlimited);
    ASSERT_TRUE(setting_number("-junk", &v, &big));
    EXPECT_EQ(v, kUnlimited);
    ASSERT_TRUE(setting_number("4294967295", &v, &big));
    EXPECT_FALSE(big);
    EXPECT_EQ(v, 4294967295u);
    EXPECT_FALSE(setting_number("abc", &v, &big));  // read_uns: unset at this level
    EXPECT_FALSE(setting_number("+5", &v, &big));
    EXPECT_FALSE(setting_number("", &v, &big));
    ASSERT_TRUE(setting_number("4294967296", &v, &big));
    EXPECT_TRUE(big);
    EXPECT_TRUE(is_numeric_setting("default-hardquota"));
    EXPECT_TRUE(is_numeric_setting("user-dir-bits"));
    EXPECT_FALSE(is_numeric_setting("password-file"));
    EXPECT_FALSE(is_numeric_setting("separators"));
}

TEST(VmailmgrLogin, SplitAtFirstSeparator)
{
    auto s = split_login("bob:smith@example.org", "@:");
    EXPECT_EQ(s.name, "bob");
    EXPECT_EQ(*s.domain, "smith@example.org");
    s = split_login("alice%example.org", "@:%");
    EXPECT_EQ(*s.domain, "example.org");
    s = split_login("ned#example.net", "@:%");
    EXPECT_FALSE(s.domain);
    s = split_login("alice@", "@:");
    EXPECT_EQ(*s.domain, "");
    EXPECT_EQ(ascii_lower("J\xc3\x96HN@Ex"), "j\xc3\x96hn@ex");  // bytewise: Ö stays
}

TEST(VmailmgrLogin, VirtualdomainsExactThenSuffixesLaterWins)
{
    auto vd = parse_virtualdomains(
        "example.org:exorg\n.example.org:exorg\nlists.example.org:exnet\nExample.Info:vm-info\n"
        "example.biz:exorg\nexample.biz:vm\nuser@x.org:nope\n:catchall\nnocolon\n");
    EXPECT_EQ(*find_virtual_prefix(vd, "example.org"), "exorg");
    EXPECT_EQ(*find_virtual_prefix(vd, "deep.mail.example.org"), "exorg");
    EXPECT_EQ(*find_virtual_prefix(vd, "lists.example.org"), "exnet");
    EXPECT_EQ(*find_virtual_prefix(vd, "EXAMPLE.INFO"), "vm-info");
    EXPECT_EQ(*find_virtual_prefix(vd, "example.biz"), "vm");
    EXPECT_FALSE(find_virtual_prefix(vd, "x.org"));
    EXPECT_FALSE(find_virtual_prefix(vd, "example.invalid"));
    EXPECT_TRUE(locals_contains("localhost\nmail.example.test\n", "mail.example.test"));
    EXPECT_FALSE(locals_contains("localhost\nmail.example.test\n", "Mail.example.test"));
}

TEST(VmailmgrControl, TrailingWhiteSpaceIsNotPartOfALine)
{
    // list_table and map_table rstrip() each line (isspace: blank, tab, CR, VT, FF)
    EXPECT_TRUE(locals_contains("localhost \t\r\nmail.example.test\v\f\n", "localhost"));
    EXPECT_TRUE(locals_contains("localhost\r\nmail.example.test\v\f", "mail.example.test"));
    EXPECT_FALSE(locals_contains(" localhost\n", "localhost"));  // leading blanks stay
    EXPECT_EQ(parse_locals("a \r\n\nb\t"), (std::vector<std::string>{"a", "", "b"}));
    auto vd = parse_virtualdomains("example.org:exorg \r\nexample.net:exnet\f\v\nexample.com:legacy");
    EXPECT_EQ(vd["example.org"], "exorg");
    EXPECT_EQ(vd["example.net"], "exnet");
    EXPECT_EQ(vd["example.com"], "legacy");
    // the key is what comes before the first ':' of the stripped line, blanks included
    vd = parse_virtualdomains("example.org :exorg\n");
    EXPECT_FALSE(find_virtual_prefix(vd, "example.org"));
    EXPECT_EQ(*find_virtual_prefix(vd, "example.org "), "exorg");
}

TEST(VmailmgrControl, EmptyPrefixCountsAsNoEntry)
{
    // find_virtual() takes an empty value for "not there" and goes on with the next suffix;
    // a later empty line still replaces an earlier one
    auto vd = parse_virtualdomains("mail.example.org:exorg\n.example.org:exsub\nmail.example.org: \t\r\n");
    EXPECT_EQ(find_virtual_prefix(vd, "mail.example.org").value_or("(none)"), "exsub");
    vd = parse_virtualdomains("example.org:\n");
    EXPECT_FALSE(find_virtual_prefix(vd, "example.org"));
    auto lines = virtualdomains_lines("b.org:x\n:catchall\nnocolon\na.org:y\nB.org:z \n");
    std::vector<std::pair<std::string, std::string>> want = {{"b.org", "x"}, {"a.org", "y"}, {"b.org", "z"}};
    EXPECT_EQ(lines, want);
}

TEST(VmailmgrPassword, SchemesAsCheckvpw)
{
    EXPECT_TRUE(classify_password("").never);
    EXPECT_TRUE(classify_password("*").never);
    EXPECT_TRUE(classify_password("$0$").never);
    auto c = classify_password("$0$Plain-Pass");
    EXPECT_EQ(c.scheme, "PLAIN");
    EXPECT_EQ(c.hash, "Plain-Pass");
    c = classify_password("3" + std::string("0123456789abcdef0123456789abcdef"));
    EXPECT_EQ(c.scheme, "PLAIN-MD5");
    EXPECT_EQ(c.hash, "0123456789abcdef0123456789abcdef");
    EXPECT_TRUE(classify_password("3" + std::string("0123456789ABCDEF0123456789abcdef")).never);
    EXPECT_EQ(classify_password("$1$salt$h").scheme, "CRYPT");
    EXPECT_EQ(classify_password("ab01FwfG3kv2.").scheme, "CRYPT");
    EXPECT_EQ(classify_password("$y$j9T$x$y").scheme, "CRYPT");
}

TEST(VmailmgrDirectory, NormalisedInsideTheBaseHome)
{
    std::string out, err;
    ASSERT_TRUE(resolve_directory("/h/exorg", "./users/Bob:Smith", &out, &err));
    EXPECT_EQ(out, "/h/exorg/users/Bob:Smith");
    ASSERT_TRUE(resolve_directory("/h/exorg", "users/sales", &out, &err));
    EXPECT_EQ(out, "/h/exorg/users/sales");
    ASSERT_TRUE(resolve_directory("/h/exorg", ".//mail/dave", &out, &err));
    EXPECT_EQ(out, "/h/exorg/mail/dave");
    ASSERT_TRUE(resolve_directory("/h/legacy", "/h/legacy/abs/oldabs", &out, &err));
    EXPECT_EQ(out, "/h/legacy/abs/oldabs");
    EXPECT_FALSE(resolve_directory("/h/exorg", "./users/../../etc", &out, &err));
    EXPECT_FALSE(resolve_directory("/h/exorg", "./", &out, &err));
    EXPECT_FALSE(resolve_directory("/h/exorg", "./users/a\nb", &out, &err));
}
