// The store broker's policy as a table: path -> allowed or refused (with its reason), whom
// root's files name, and the vmailmgr names; no root and no broker process needed.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "broker_policy.h"
#include "vmailmgr_paths.h"

using namespace vstore;
using broker_policy::Access;
using Rule = broker_policy::Decision::Rule;

namespace {

const BrokerArea kDomain{{89, 89, "domain ex.org"}, BrokerArea::Kind::VpopmailDomain, "/vp/domains/ex.org", ""};
const BrokerArea kEtc{{89, 89, "vpopmail"}, BrokerArea::Kind::VpopmailEtc, "/vp", ""};
const BrokerArea kHomes{{89, 89, "domain ex.org"}, BrokerArea::Kind::VpopmailHomes, "/home/mail", ""};
const BrokerArea kBase{{1001, 1001, "base user bob"}, BrokerArea::Kind::VmailmgrHome, "/home/bob", "/etc/vmailmgr"};

struct Row {
    const BrokerArea *area;
    Access access;
    const char *path;
    Rule rule;
    const char *reason;  // a part of the refusal's reason ("" for a path outside the area)
};

const char *name(Access a)
{
    switch (a) {
    case Access::Lstat: return "lstat";
    case Access::Open: return "open";
    case Access::Statfs: return "statfs";
    case Access::Watch: return "watch";
    case Access::Lastauth: return "lastauth";
    }
    return "?";
}

}  // namespace

TEST(BrokerPolicy, PathsOfEachArea)
{
    const Row rows[] = {
        // a vpopmail domain's store files, and nothing else of the domain's
        {&kDomain, Access::Open, "/vp/domains/ex.org/vpasswd.cdb", Rule::Allowed, ""},
        {&kDomain, Access::Lstat, "/vp/domains/ex.org/vpasswd", Rule::Allowed, ""},
        {&kDomain, Access::Open, "/vp/domains/ex.org/.qmailadmin-limits", Rule::Allowed, ""},
        {&kDomain, Access::Open, "/vp/domains/ex.org/alice/vpasswd", Rule::Refused, "not a file of the domain's store"},
        {&kDomain, Access::Open, "/vp/domains/ex.org/alice/Maildir/cur/1.msg", Rule::Refused, "not a file"},
        {&kDomain, Access::Open, "/vp/domains/ex.org/.qmail-default", Rule::Refused, "not a file"},
        {&kDomain, Access::Open, "/vp/domains/ex.orgx/vpasswd.cdb", Rule::Refused, ""},
        {&kDomain, Access::Watch, "/vp/domains/ex.org", Rule::Allowed, ""},
        {&kDomain, Access::Statfs, "/vp/domains", Rule::Allowed, ""},
        {&kDomain, Access::Watch, "/vp/domains/ex.org/alice", Rule::Refused, "not a file"},
        // lastauth: a user's own directory, at vpopmail's depths, never mail
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org/alice", Rule::Allowed, ""},
        {&kDomain, Access::Lstat, "/vp/domains/ex.org/alice/lastauth", Rule::Allowed, ""},
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org/0/alice", Rule::Allowed, ""},
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org/0/Z/z/alice", Rule::Allowed, ""},
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org/0/Z/z/y/alice", Rule::Refused, "deeper than vpopmail's"},
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org/alice/x", Rule::Refused, "not one of vpopmail's hash"},
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org", Rule::Refused, "not a user directory"},
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org/alice/Maildir", Rule::Refused, "mail or dot directory"},
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org/alice/Maildir/cur", Rule::Refused, "mail or dot"},
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org/a/Maildir", Rule::Refused, "mail or dot"},
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org/a/new", Rule::Refused, "mail or dot"},
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org/a/tmp", Rule::Refused, "mail or dot"},
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org/a/.Sent", Rule::Refused, "mail or dot"},
        {&kDomain, Access::Lastauth, "/vp/domains/ex.org/.ssh", Rule::Refused, "mail or dot"},
        {&kDomain, Access::Lstat, "/vp/domains/ex.org/alice/Maildir/cur/lastauth", Rule::Refused, "mail or dot"},
        {&kDomain, Access::Lastauth, "/vp/domains/other.org/alice", Rule::Refused, ""},
        // vpopmail_dir's etc/
        {&kEtc, Access::Open, "/vp/etc/defaultdomain", Rule::Allowed, ""},
        {&kEtc, Access::Lstat, "/vp/etc/vlimits.default", Rule::Allowed, ""},
        {&kEtc, Access::Watch, "/vp/etc", Rule::Allowed, ""},
        {&kEtc, Access::Statfs, "/vp", Rule::Allowed, ""},
        {&kEtc, Access::Open, "/vp/etc/tcp.smtp", Rule::Refused, ""},
        {&kEtc, Access::Lastauth, "/vp/etc", Rule::Refused, ""},
        // home_roots: lastauth only, in a user directory of any name, not mail
        {&kHomes, Access::Lastauth, "/home/mail/ex.org/alice", Rule::Allowed, ""},
        {&kHomes, Access::Lastauth, "/home/mail/a/b/c/d/e", Rule::Allowed, ""},
        {&kHomes, Access::Lastauth, "/home/mail/a/b/c/d/e/f", Rule::Refused, "more than 5"},
        {&kHomes, Access::Lastauth, "/home/mail/ex.org/alice/Maildir/cur", Rule::Refused, "mail or dot"},
        {&kHomes, Access::Lastauth, "/home/mail", Rule::Refused, "not a user directory"},
        {&kHomes, Access::Open, "/home/mail/ex.org/alice/lastauth", Rule::Refused, ""},
        // a vmailmgr base user's home: the store password-file names, the settings the driver reads
        {&kBase, Access::Open, "/home/bob/passwd.cdb", Rule::IfPasswordFile, ""},
        {&kBase, Access::Lstat, "/home/bob/other.cdb", Rule::IfPasswordFile, ""},
        {&kBase, Access::Open, "/home/bob/.vmailmgr/password-file", Rule::Allowed, ""},
        {&kBase, Access::Open, "/home/bob/.vmailmgr/default-expiry", Rule::Allowed, ""},
        {&kBase, Access::Open, "/home/bob/.vmailmgr/autoresponse-file", Rule::Refused, "not a setting the vmailmgr"},
        {&kBase, Access::Open, "/home/bob/.vmailmgr/secret", Rule::Refused, "not a setting the vmailmgr"},
        {&kBase, Access::Open, "/home/bob/.cdb", Rule::Refused, "not the base user's store"},
        {&kBase, Access::Open, "/home/bob/users/alice/passwd.cdb", Rule::Refused, "not the base user's store"},
        {&kBase, Access::Open, "/home/bob/passwd", Rule::Refused, "not the base user's store"},
        {&kBase, Access::Open, "/home/bob/users/alice/Maildir/cur/1.msg", Rule::Refused, "not the base user's store"},
        {&kBase, Access::Lstat, "/home/bob", Rule::Allowed, ""},
        {&kBase, Access::Open, "/home/bob", Rule::Refused, "not the base user's store"},
        {&kBase, Access::Watch, "/home/bob/.vmailmgr", Rule::Allowed, ""},
        {&kBase, Access::Watch, "/home/bob/users", Rule::Refused, "not the base user's store"},
        {&kBase, Access::Lastauth, "/home/bob", Rule::Refused, "not the base user's store"},
        {&kBase, Access::Open, "/home/bobby/passwd.cdb", Rule::Refused, ""},
    };
    for (const Row &r : rows) {
        SCOPED_TRACE(std::string(name(r.access)) + " " + r.path);
        ASSERT_FALSE(broker_policy::path_refusal(r.path));
        const broker_policy::Decision d = broker_policy::decide(*r.area, r.access, r.path);
        EXPECT_EQ(static_cast<int>(d.rule), static_cast<int>(r.rule)) << d.reason;
        if (r.rule == Rule::Refused && *r.reason == '\0') {
            EXPECT_EQ(d.reason, "");
        } else if (r.rule == Rule::Refused) {
            EXPECT_NE(d.reason.find(r.reason), std::string::npos) << d.reason;
        }
    }
    EXPECT_EQ(broker_policy::decide(kBase, Access::Open, "/home/bob/other.cdb").store_name, "other");
}

TEST(BrokerPolicy, PathsTheStoreWouldNotName)
{
    for (const std::string &p : std::vector<std::string>{"", "/", "relative/vpasswd", "/vp/domains/ex.org/", "/vp//domains", "/vp/./x",
                                "/vp/domains/../etc", std::string("/vp/a\0b", 7), "/" + std::string(5000, 'a')})
        EXPECT_TRUE(broker_policy::path_refusal(p)) << p;
    EXPECT_FALSE(broker_policy::path_refusal("/vp/domains/ex.org/vpasswd.cdb"));
}

TEST(BrokerPolicy, PasswordFileNamesTheStore)
{
    using broker_policy::password_file_matches;
    const std::optional<std::string_view> none;
    EXPECT_TRUE(password_file_matches("passwd", none, none));
    EXPECT_FALSE(password_file_matches("other", none, none));
    EXPECT_TRUE(password_file_matches("other", std::string_view("other\n"), none));
    EXPECT_TRUE(password_file_matches("other", std::string_view("  other \r\nignored\n"), none));
    EXPECT_FALSE(password_file_matches("passwd", std::string_view("other\n"), none));
    EXPECT_FALSE(password_file_matches("ignored", std::string_view("other\nignored\n"), none));
    // an empty first line is unset at that level: root's setting, then the default
    EXPECT_TRUE(password_file_matches("global", std::string_view("\nother\n"), std::string_view("global\n")));
    EXPECT_TRUE(password_file_matches("passwd", std::string_view(" \n"), std::string_view("")));
    EXPECT_TRUE(password_file_matches("mine", std::string_view("mine"), std::string_view("global\n")));
    EXPECT_FALSE(password_file_matches("global", std::string_view("mine"), std::string_view("global\n")));
}

TEST(BrokerPolicy, VmailmgrNames)
{
    namespace vp = vmailmgr_paths;
    EXPECT_TRUE(vp::password_file_name_allowed("passwd"));
    for (const std::string &n : std::vector<std::string>{"", ".", "..", "a/b", "/etc/shadow", std::string("a\0b", 3), std::string(260, 'a')})
        EXPECT_FALSE(vp::password_file_name_allowed(n)) << n;
    EXPECT_TRUE(vp::is_base_setting("default-msgcount"));
    EXPECT_FALSE(vp::is_base_setting("separators"));
    EXPECT_EQ(vp::setting_text("\t x y \r\n z"), "x y");
    EXPECT_TRUE(vp::base_user_served(1001, 1001, "/home/bob", 500));
    EXPECT_FALSE(vp::base_user_served(499, 1001, "/home/bob", 500));
    EXPECT_FALSE(vp::base_user_served(1001, 0, "/home/bob", 500));
    EXPECT_FALSE(vp::base_user_served(1001, 1001, "/", 500));
    EXPECT_FALSE(vp::base_user_served(1001, 1001, "home", 500));
}

// The base user a name leads to, for the store (a login's "prefix-name", a virtualdomains
// prefix) and the broker (a virtualdomains prefix) alike: checkvpw's lookup_baseuser().
TEST(BrokerPolicy, BaseUserOfANameRightToLeft)
{
    namespace vp = vmailmgr_paths;
    auto base_of = [](std::string_view name, std::set<std::string> accounts) {
        std::vector<std::string> asked;
        const size_t end = vp::find_base_user(name, [&](const std::string &candidate) {
            asked.push_back(candidate);
            return accounts.count(candidate) != 0;
        });
        return std::make_pair(std::string(name.substr(0, end)), asked);
    };
    // a prefix with a dash: the longest part that is an account
    EXPECT_EQ(base_of("exorg-org", {"exorg"}).first, "exorg");
    EXPECT_EQ(base_of("exorg-org", {"exorg", "exorg-org"}).first, "exorg-org");
    EXPECT_EQ(base_of("exorg-org", {"exorg-org-joe", "exorg"}).first, "exorg");  // only longer names reach it
    EXPECT_EQ(base_of("exorg-org-joe", {"exorg"}).first, "exorg");
    EXPECT_EQ(base_of("exorg-org", {"org"}).first, "");  // never a part after a '-'
    EXPECT_EQ(base_of("exorg-org", {}).second, (std::vector<std::string>{"exorg-org", "exorg"}));
    // candidates are looked up lowercased (base.lower()): a virtualdomains prefix is not
    EXPECT_EQ(base_of("ExOrg-Org", {"exorg"}).first, "ExOrg");
    EXPECT_EQ(base_of("ExOrg-Org", {}).second, (std::vector<std::string>{"exorg-org", "exorg"}));
    // a trailing or doubled '-': empty virtual names and parts, as lookup_baseuser splits them
    EXPECT_EQ(base_of("exorg-", {"exorg"}).first, "exorg");
    EXPECT_EQ(base_of("exorg--x", {"exorg"}).first, "exorg");
    EXPECT_EQ(base_of("exorg--x", {}).second, (std::vector<std::string>{"exorg--x", "exorg-", "exorg"}));
    // a leading '-' is no candidate; names no account can have are not asked
    EXPECT_EQ(base_of("-exorg", {"exorg"}).second, (std::vector<std::string>{}));
    EXPECT_EQ(base_of("a b-c/d-exorg", {"a b"}).second, (std::vector<std::string>{}));
    EXPECT_EQ(base_of(std::string(40, 'a') + "-x", {}).second, (std::vector<std::string>{}));
}

namespace {

void put_u32(std::string *s, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        (*s)[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// A cdb's bytes with these records (the hash tables are not read: only their position).
std::string cdb_of(const std::vector<std::pair<std::string, std::string>> &records)
{
    std::string s(2048, '\0');
    for (const auto &[k, v] : records) {
        std::string head(8, '\0');
        put_u32(&head, 0, static_cast<uint32_t>(k.size()));
        put_u32(&head, 4, static_cast<uint32_t>(v.size()));
        s += head + k + v;
    }
    for (int i = 0; i < 256; i++)
        put_u32(&s, static_cast<size_t>(i) * 8, static_cast<uint32_t>(s.size()));
    return s;
}

std::string assign(const std::string &real, const std::string &uid, const std::string &gid, const std::string &dir)
{
    const std::string nul("\0", 1);
    return real + nul + uid + nul + gid + nul + dir + nul + "-" + nul;
}

}  // namespace

TEST(BrokerPolicy, DomainsFromUsersCdb)
{
    const std::string cdb = cdb_of({
        {"!ex.org-", assign("ex.org", "89", "89", "/vp/domains/ex.org")},
        {"!alias.org-", assign("ex.org", "89", "89", "/vp/domains/ex.org")},  // an alias domain
        {"!joe-", assign("joe", "4321", "4321", "/home/joe")},                // a qmail user
        {"=joe", assign("joe", "4321", "4321", "/home/joe")},
        {"!big.org-", assign("big.org", "90", "91", "/vp/domains/1/big.org")},
        {"!bad.org-", assign("bad.org", "-1", "89", "/vp/domains/bad.org")},
        {"!rel.org-", assign("rel.org", "89", "89", "vp/domains/rel.org")},
        {"!root.org-", assign("root.org", "0", "0", "/vp/domains/root.org")},
        {"!up.org-", assign("up.org", "89", "89", "/vp/domains/../../etc")},
    });
    std::vector<broker_policy::AssignedDomain> domains;
    std::string error;
    ASSERT_TRUE(broker_policy::assigned_domains(cdb, &domains, &error)) << error;
    std::vector<std::string> names;
    for (const auto &d : domains)
        names.push_back(d.domain);
    EXPECT_EQ(names, (std::vector<std::string>{"ex.org", "joe", "big.org", "root.org", "up.org"}));

    const auto areas = broker_policy::vpopmail_areas(domains, "/vp", FsOwner{89, 89, "vp"}, {"/home/mail"});
    std::vector<std::string> roots;
    for (const auto &a : areas)
        if (a.kind == BrokerArea::Kind::VpopmailDomain)
            roots.push_back(a.root + " " + std::to_string(a.owner.uid) + ":" + std::to_string(a.owner.gid));
    // not joe's home (not below domains/), not root's, not one with ".."
    EXPECT_EQ(roots, (std::vector<std::string>{"/vp/domains/ex.org 89:89", "/vp/domains/1/big.org 90:91"}));
    size_t homes = 0;
    for (const auto &a : areas)
        homes += a.kind == BrokerArea::Kind::VpopmailHomes;
    EXPECT_EQ(homes, 2u);  // once per owner

    // not a cdb, or records that run past their end
    EXPECT_FALSE(broker_policy::assigned_domains("short", &domains, &error));
    std::string broken = cdb;
    put_u32(&broken, 2048, 0xfffffff0u);
    EXPECT_FALSE(broker_policy::assigned_domains(broken, &domains, &error));
}

TEST(BrokerPolicy, PrefixesFromVirtualdomains)
{
    const auto bases = broker_policy::virtualdomains_prefixes(
        "example.org:exorg\n"
        "Example.NET:exnet \t\r\n"
        "alice@example.com:alice\n"  // qmail's, not a domain
        ":nobody\n"
        "moved.org:old\n"
        "moved.org:new\n"  // the later line wins
        "empty.org:\n"
        "no colon here\n"
        "again.org:exorg");
    EXPECT_EQ(bases, (std::vector<std::string>{"exorg", "exnet", "new"}));
}
