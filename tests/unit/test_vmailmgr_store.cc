#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "test_support.h"
#include "vmailmgr_paths.h"
#include "vmailmgr_store.h"

using namespace vstore;
using testsupport::TempDir;

namespace {

std::string z(const std::string &s) { return s + std::string(1, '\0'); }

std::string v2(const std::string &pw, const std::string &dir, bool mailbox = true, const std::string &expiry = "-")
{
    return std::string("\x02\x0a", 2) + std::string(1, mailbox ? 1 : 0) + std::string("\x08\x01\x00", 3) + z(pw) +
           z(dir) + z("") + z("Personal") + z("-") + z("-") + z("-") + z("-") + z("1795294514") + z(expiry);
}

class VmailmgrStoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        bases = {{"exorg", {"exorg", dir / "exorg", 2101, 2101}},
                 {"vm", {"vm", dir / "vm", 2105, 2105}},
                 {"vm-info", {"vm-info", dir / "vm-info", 2103, 2103}}};
        settings.first_valid_uid = 1000;
        for (const auto &[name, base] : bases) {
            testsupport::make_dirs(base.home);
            testsupport::chown_tree(base.home, base.uid, base.gid);
        }
        testsupport::write_file(dir / "qmail/control/locals", "localhost\nmail.example.test\n");
        testsupport::write_file(dir / "qmail/control/virtualdomains",
                                "example.org:exorg\n.example.org:exorg\nexample.info:vm-info\nexample.biz:vm\n");
        testsupport::write_file(dir / "etc/separators", "@:%\n");
        testsupport::write_cdb(dir / "exorg/passwd.cdb",
                               {{"alice", v2("$0$Alice", "./users/alice")},
                                {"info", v2("*", "./users/info", false)},
                                {"erin", v2("$0$Erin", "./users/erin", true, "1000000000")},
                                {"evil", v2("$0$Evil", "./users/../../../etc")},
                                {"bad", std::string("\x03", 1) + "junk"}});
        testsupport::write_cdb(dir / "vm-info/passwd.cdb", {{"desk", v2("$0$Desk", "./users/desk")}});
        testsupport::write_cdb(dir / "vm/passwd.cdb", {{"info-desk", v2("$0$VmDesk", "./users/info-desk")}});
        settings.qmail_dir = dir / "qmail";
        settings.config_dir = dir / "etc";
        settings.lookup_base_user = [this](const std::string &name) -> std::optional<BaseUser> {
            auto it = bases.find(name);
            if (it == bases.end())
                return std::nullopt;
            return it->second;
        };
    }

    TempDir dir;
    std::map<std::string, BaseUser> bases;
    VmailmgrSettings settings;
};

}  // namespace

TEST_F(VmailmgrStoreTest, ResolvesDomainPrefixBaseAndRecord)
{
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    Outcome o = store.lookup("Alice%Example.ORG", "", &a);
    ASSERT_TRUE(o.is_ok()) << o.reason;
    EXPECT_EQ(a.base.name, "exorg");
    EXPECT_EQ(a.virtual_name, "alice");
    EXPECT_EQ(a.mailbox, dir / "exorg/users/alice");
    EXPECT_EQ(a.canonical_name(), "alice@example.org");
    ASSERT_TRUE(store.lookup("alice@deep.mail.example.org", "", &a).is_ok());
}

TEST_F(VmailmgrStoreTest, DomainlessLoginsUseDefaultThenLocalName)
{
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    EXPECT_EQ(store.lookup("alice", "", &a).verdict, Verdict::UserUnknown);
    ASSERT_TRUE(store.lookup("alice", "example.org", &a).is_ok());
    EXPECT_EQ(a.canonical_name(), "alice@example.org");
    ASSERT_TRUE(store.lookup("exorg-alice", "mail.example.test", &a).is_ok());
    EXPECT_EQ(a.canonical_name(), "exorg-alice@mail.example.test");
    ASSERT_TRUE(store.lookup(a.canonical_name(), "", &a).is_ok());  // canonical name resolves alone
    VmailmgrSettings s2 = settings;
    s2.default_domain = "example.org";
    VmailmgrStore store2(s2);
    ASSERT_TRUE(store2.lookup("alice", "mail.example.test", &a).is_ok());
}

TEST_F(VmailmgrStoreTest, BaseUserRightToLeft)
{
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    ASSERT_TRUE(store.lookup("info-desk@example.biz", "", &a).is_ok());
    EXPECT_EQ(a.base.name, "vm-info");
    EXPECT_EQ(a.virtual_name, "desk");
    ASSERT_TRUE(store.lookup("exorg-alice@example.invalid", "", &a).is_ok());
    EXPECT_EQ(a.base.name, "exorg");
    Outcome o = store.lookup("exorg@example.invalid", "", &a);
    EXPECT_EQ(o.verdict, Verdict::UserUnknown);
    EXPECT_TRUE(a.system_user);
    EXPECT_EQ(store.lookup("alice-bar@example.org", "", &a).verdict, Verdict::UserUnknown);
}

TEST_F(VmailmgrStoreTest, AccountStates)
{
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    ASSERT_TRUE(store.lookup("info@example.org", "", &a).is_ok());
    EXPECT_EQ(store.check_login_allowed(a, 1700000000).verdict, Verdict::Disabled);
    ASSERT_TRUE(store.lookup("erin@example.org", "", &a).is_ok());
    EXPECT_EQ(store.check_login_allowed(a, 1700000000).verdict, Verdict::Disabled);
    EXPECT_TRUE(store.check_login_allowed(a, 999999999).is_ok());
}

TEST_F(VmailmgrStoreTest, FaultsAndHostileInput)
{
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    EXPECT_EQ(store.lookup("bad@example.org", "", &a).verdict, Verdict::StoreFault);
    Outcome o = store.lookup("evil@example.org", "", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("leaves the base user's home"), std::string::npos) << o.reason;
    EXPECT_EQ(store.lookup(std::string("al\0ce@example.org", 17), "", &a).verdict, Verdict::InvalidLogin);
    EXPECT_EQ(store.lookup("@example.org", "", &a).verdict, Verdict::InvalidLogin);
    EXPECT_EQ(store.lookup("alice@", "", &a).verdict, Verdict::InvalidLogin);
    testsupport::write_file(dir / "vm/passwd.cdb", "short");
    o = store.lookup("bizuser@example.biz", "", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("truncated"), std::string::npos) << o.reason;
}

TEST_F(VmailmgrStoreTest, ListsUsersWithMailboxes)
{
    VmailmgrStore store(settings);
    std::string err;
    auto users = store.list_users(&err);  // the one-argument form still works
    EXPECT_EQ(err, "");
    std::sort(users.begin(), users.end());
    // not info-desk@example.biz: that name is vm-info's desk (see the next test)
    std::vector<std::string> want = {"alice@example.org", "desk@example.info", "erin@example.org", "evil@example.org"};
    EXPECT_EQ(users, want);
}

TEST_F(VmailmgrStoreTest, EveryListedNameLooksUpToItsOwnAccount)
{
    // vm's "info-desk" is listed under example.biz as info-desk@example.biz, but checkvpw
    // resolves vm-info-desk right to left: base user vm-info, virtual user desk. Listed, it
    // made one mailbox appear twice in an iteration and vm's own never.
    VmailmgrStore store(settings);
    std::string err;
    std::vector<VmailmgrUnlisted> skipped;
    auto users = store.list_users(&err, &skipped);
    EXPECT_EQ(err, "");
    std::set<std::pair<std::string, std::string>> accounts;
    for (const std::string &name : users) {
        VmailmgrAccount a;
        Outcome o = store.lookup(name, "", &a);
        // evil's record is a store fault, but the name is still its own
        EXPECT_TRUE(o.is_ok() || name == "evil@example.org") << name << ": " << o.reason;
        EXPECT_TRUE(accounts.insert({a.base.name, a.virtual_name}).second) << name << " is listed twice";
    }
    EXPECT_EQ(accounts.size(), users.size());
    ASSERT_EQ(skipped.size(), 1u);
    EXPECT_EQ(skipped[0].base_user, "vm");
    EXPECT_EQ(skipped[0].virtual_name, "info-desk");
    EXPECT_NE(skipped[0].reason.find("'info-desk@example.biz' resolves to base user vm-info, virtual user desk"),
              std::string::npos)
        << skipped[0].reason;
    // the fallback through a local domain leads to the same place
    EXPECT_NE(skipped[0].reason.find("'vm-info-desk@localhost' resolves to base user vm-info"), std::string::npos)
        << skipped[0].reason;
}

TEST_F(VmailmgrStoreTest, ListsNamesUnderPrefixesWithADashAndThroughLocals)
{
    // example.net:exorg-net makes net@ names exorg's "net-" users; exorg's other users have
    // no virtual domain and are listed as exorg-NAME@ the first local domain, as checkvpw
    // leaves names in local domains alone.
    testsupport::write_file(dir / "qmail/control/virtualdomains", "example.net:exorg-net\n.example.net:vm\n");
    testsupport::write_cdb(dir / "exorg/passwd.cdb",
                           {{"alice", v2("$0$Alice", "./users/alice")}, {"net-bob", v2("$0$Bob", "./users/bob")}});
    VmailmgrStore store(settings);
    std::string err;
    std::vector<VmailmgrUnlisted> skipped;
    auto users = store.list_users(&err, &skipped);
    EXPECT_EQ(err, "");
    std::sort(users.begin(), users.end());
    std::vector<std::string> want = {"bob@example.net", "exorg-alice@localhost"};
    EXPECT_EQ(users, want);
    EXPECT_TRUE(skipped.empty());
    VmailmgrAccount a;
    ASSERT_TRUE(store.lookup("bob@example.net", "", &a).is_ok());
    EXPECT_EQ(a.virtual_name, "net-bob");
    ASSERT_TRUE(store.lookup("exorg-alice@localhost", "", &a).is_ok());
    EXPECT_EQ(a.virtual_name, "alice");

    // without a local domain such accounts have no name
    testsupport::write_file(dir / "qmail/control/locals", "");
    VmailmgrStore nolocals(settings);
    skipped.clear();
    users = nolocals.list_users(&err, &skipped);
    EXPECT_EQ(users, std::vector<std::string>{"bob@example.net"});
    ASSERT_EQ(skipped.size(), 1u);
    EXPECT_EQ(skipped[0].virtual_name, "alice");
    EXPECT_NE(skipped[0].reason.find("no domain"), std::string::npos) << skipped[0].reason;
}

TEST_F(VmailmgrStoreTest, UnreachableRecordKeysAreNotListed)
{
    // vmailmgr lowercases logins, and a name with a separator in it splits elsewhere
    testsupport::write_cdb(dir / "exorg/passwd.cdb", {{"alice", v2("$0$Alice", "./users/alice")},
                                                      {"Upper", v2("$0$Up", "./users/Upper")},
                                                      {"a%b", v2("$0$Ab", "./users/ab")}});
    VmailmgrStore store(settings);
    std::string err;
    std::vector<VmailmgrUnlisted> skipped;
    auto users = store.list_users(&err, &skipped);
    std::sort(users.begin(), users.end());
    std::vector<std::string> want = {"alice@example.org", "desk@example.info"};
    EXPECT_EQ(users, want);
    std::set<std::string> left_out;
    for (const auto &u : skipped)
        left_out.insert(u.base_user + ":" + u.virtual_name);
    EXPECT_EQ(left_out, (std::set<std::string>{"exorg:Upper", "exorg:a%b", "vm:info-desk"}));
}

TEST_F(VmailmgrStoreTest, PasswordFileMayNotLeaveTheHome)
{
    testsupport::write_cdb(dir / "elsewhere/stolen.cdb", {{"alice", v2("$0$Stolen", "./users/alice")}});
    for (const char *name : {"../elsewhere/stolen", "/etc/shadow", "sub/passwd", ".."}) {
        testsupport::write_file(dir / "exorg/.vmailmgr/password-file", std::string(name) + "\n");
        VmailmgrStore store(settings);
        VmailmgrAccount a;
        Outcome o = store.lookup("alice@example.org", "", &a);
        EXPECT_EQ(o.verdict, Verdict::StoreFault) << name;
        EXPECT_NE(o.reason.find("without '/'"), std::string::npos) << o.reason;
    }
    // a plain file name in the home is vmailmgr's own setting
    testsupport::write_cdb(dir / "exorg/other.cdb", {{"alice", v2("$0$Other", "./users/alice")}});
    testsupport::write_file(dir / "exorg/.vmailmgr/password-file", "other\n");
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    ASSERT_TRUE(store.lookup("alice@example.org", "", &a).is_ok());
    EXPECT_EQ(a.record.password, "$0$Other");
}

TEST_F(VmailmgrStoreTest, SystemAccountsAndStorelessBasesAreUnknownUsers)
{
    bases["root"] = {"root", "/root", 0, 0};
    bases["daemon"] = {"daemon", "/usr/sbin", 1, 1};
    bases["nohome"] = {"nohome", "", 3000, 3000};
    bases["nostore"] = {"nostore", dir / "nostore", 3001, 3001};
    testsupport::make_dirs(dir / "nostore");
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    for (const char *login : {"root-x@localhost", "daemon-x@localhost", "nohome-x@localhost", "nostore-x@localhost"}) {
        Outcome o = store.lookup(login, "", &a);
        EXPECT_EQ(o.verdict, Verdict::UserUnknown) << login << ": " << o.reason;
    }
    EXPECT_NE(store.lookup("root-x@localhost", "", &a).reason.find("below first_valid_uid 1000"), std::string::npos);
}

TEST_F(VmailmgrStoreTest, AccountsNoVirtualdomainsLineNamesAnswerAsUnknownNames)
{
    // A Unix account above first_valid_uid that control/virtualdomains does not name: whether
    // it has a home, a store or nothing, it answers as a name that does not exist, so that the
    // answer tells no one which system accounts there are (issue 25, item 5).
    bases["someone"] = {"someone", dir / "someone", 3002, 3002};  // a home, no store
    bases["nohomedir"] = {"nohomedir", dir / "missing", 3003, 3003};  // home in passwd, not on disk
    bases["hasstore"] = {"hasstore", dir / "hasstore", 3004, 3004};  // a store checkvpw would read
    testsupport::make_dirs(dir / "someone");
    testsupport::make_dirs(dir / "hasstore");
    testsupport::write_cdb(dir / "hasstore/passwd.cdb", {{"x", v2("$0$X", "./users/x")}});
    testsupport::chown_tree(dir / "hasstore", 3004, 3004);
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    const Outcome unknown = store.lookup("nosuchname-x@localhost", "", &a);
    ASSERT_EQ(unknown.verdict, Verdict::UserUnknown);
    for (const char *login : {"someone-x@localhost", "nohomedir-x@localhost", "hasstore-x@localhost",
                              "hasstore-x@example.invalid"}) {
        Outcome o = store.lookup(login, "", &a);
        EXPECT_EQ(o.verdict, Verdict::UserUnknown) << login << ": " << o.reason;
        EXPECT_NE(o.reason.find("no base user control/virtualdomains names"), std::string::npos) << o.reason;
    }
    // a prefix with a '-' leads to the base user checkvpw's right-to-left search finds in it
    testsupport::write_file(dir / "qmail/control/virtualdomains", "example.org:exorg-org\n");
    VmailmgrStore dashed(settings);
    Outcome o = dashed.lookup("exorg-alice@localhost", "", &a);
    EXPECT_TRUE(o.is_ok()) << o.reason;
    EXPECT_EQ(dashed.lookup("vm-info-desk@localhost", "", &a).verdict, Verdict::UserUnknown);
}

// Which base user a control/virtualdomains prefix leads to is one rule for the store and the
// broker (vmailmgr_paths::find_base_user, tested in test_broker_policy.cc): the store answers
// for exactly the base users whose homes the broker serves. A prefix with a '-' or capitals
// leads to the longest part that is an account, lowercased, as checkvpw finds it.
TEST_F(VmailmgrStoreTest, PrefixesLeadToTheBaseUsersTheBrokerServes)
{
    testsupport::write_file(dir / "qmail/control/virtualdomains",
                            "example.org:ExOrg-Org\n"   // no account exorg-org: exorg
                            "example.info:vm-info\n"    // the account vm-info, not vm
                            "example.biz:VM-Biz\n"      // vm
                            "example.net:nobody-x\n");  // no account at all
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    // ExOrg-Org-alice: exorg's Org-alice (only the base user's name is lowercased; the
    // virtual name is the rest as it stands, fulluser.right(i+1))
    Outcome o = store.lookup("alice@example.org", "", &a);
    EXPECT_EQ(o.verdict, Verdict::UserUnknown) << o.reason;
    EXPECT_NE(o.reason.find("user Org-alice is not in"), std::string::npos) << o.reason;
    EXPECT_EQ(a.base.name, "exorg");
    o = store.lookup("exorg-alice@localhost", "", &a);  // exorg is named: its users answer
    EXPECT_TRUE(o.is_ok()) << o.reason;
    o = store.lookup("info-desk@example.biz", "", &a);  // VM-Biz-info-desk: vm's Biz-info-desk
    EXPECT_EQ(a.base.name, "vm");
    EXPECT_EQ(a.virtual_name, "Biz-info-desk");
    EXPECT_TRUE(store.lookup("desk@example.info", "", &a).is_ok());

    // the base users named, the same as the shared rule gives for each prefix
    std::string error;
    std::set<std::string> named;
    for (const BaseUser &b : store.named_base_users(&error))
        named.insert(b.name);
    std::set<std::string> by_rule;
    for (const char *prefix : {"ExOrg-Org", "vm-info", "VM-Biz", "nobody-x"}) {
        std::string found;
        vmailmgr_paths::find_base_user(prefix, [&](const std::string &name) {
            found = name;
            return bases.count(name) != 0;
        });
        if (bases.count(found) != 0)
            by_rule.insert(found);
    }
    EXPECT_EQ(named, (std::set<std::string>{"exorg", "vm", "vm-info"}));
    EXPECT_EQ(named, by_rule);
}

TEST_F(VmailmgrStoreTest, OversizedSettingFilesAreFaultsBeforeTheyAreRead)
{
    // a base user pads ~/.vmailmgr/password-file: a fault naming the file and its size
    testsupport::make_dirs(dir / "exorg/.vmailmgr");
    testsupport::write_file(dir / "exorg/.vmailmgr/password-file", "passwd\n" + std::string(64 * 1024, '#'));
    testsupport::chown_tree(dir / "exorg/.vmailmgr", 2101, 2101);
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    Outcome o = store.lookup("alice@example.org", "", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("password-file is too large (65543 bytes, limit 4096)"), std::string::npos) << o.reason;
    // other base users are served
    EXPECT_TRUE(store.lookup("desk@example.info", "", &a).is_ok());
}

TEST_F(VmailmgrStoreTest, OversizedRecordsAreFaultsOfThatUser)
{
    testsupport::write_cdb(dir / "exorg/passwd.cdb",
                           {{"alice", v2("$0$Alice", "./users/alice")},
                            {"big", std::string("\x02\x00", 2) + z("$0$Big") + z("./users/big") + z("") +
                                        z(std::string(5000, 'P')) + z("-") + z("-") + z("-") + z("-") + z("0") +
                                        z("-")},
                            {"huge", std::string(vmailmgr::kMaxRecordBytes + 1, '\x02')}});
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    Outcome o = store.lookup("big@example.org", "", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("personal field is 5000 bytes, over the limit of 4096"), std::string::npos) << o.reason;
    o = store.lookup("huge@example.org", "", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("65537"), std::string::npos) << o.reason;
    EXPECT_TRUE(store.lookup("alice@example.org", "", &a).is_ok());
}

TEST_F(VmailmgrStoreTest, AbsoluteMailboxesOnlyInTheHomeOrHomeRoots)
{
    // old colon records hold absolute directories
    testsupport::write_cdb(dir / "exorg/passwd.cdb",
                           {{"old", ":$0$Old:" + dir.path() + "/exorg/users/old"}, {"away", ":$0$Away:/srv/disk2/away"}});
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    ASSERT_TRUE(store.lookup("old@example.org", "", &a).is_ok());
    Outcome o = store.lookup("away@example.org", "", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("outside"), std::string::npos) << o.reason;
    settings.access.home_roots = {"/srv/disk2"};
    VmailmgrStore moved(settings);
    ASSERT_TRUE(moved.lookup("away@example.org", "", &a).is_ok());
    EXPECT_EQ(a.mailbox, "/srv/disk2/away");
}

TEST_F(VmailmgrStoreTest, UnreadableSettingIsAFaultNotTheDefault)
{
    // a FIFO where ~/.vmailmgr/password-file belongs: falling back to "passwd" would guess
    testsupport::make_dirs(dir / "exorg/.vmailmgr");
    ASSERT_EQ(::mkfifo((dir / "exorg/.vmailmgr/password-file").c_str(), 0600), 0);
    testsupport::chown_tree(dir / "exorg/.vmailmgr", 2101, 2101);
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    Outcome o = store.lookup("alice@example.org", "", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("is a FIFO"), std::string::npos) << o.reason;
}

TEST_F(VmailmgrStoreTest, DefaultExpiryOfColonRecordsIsFromNow)
{
    // vmailmgr's set_defaults: expiry = now + default-expiry; the record is not expired
    testsupport::write_cdb(dir / "exorg/passwd.cdb", {{"old", ":$0$Old:./users/old"}});
    testsupport::write_file(dir / "etc/default-expiry", "31536000\n");
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    ASSERT_TRUE(store.lookup("old@example.org", "", &a).is_ok());
    const time_t now = time(nullptr);
    EXPECT_GE(a.record.expiry, static_cast<uint32_t>(now + 31536000 - 5));
    EXPECT_TRUE(store.check_login_allowed(a, now).is_ok());
    EXPECT_EQ(store.check_login_allowed(a, now + 31536000 + 10).verdict, Verdict::Disabled);
    testsupport::write_file(dir / "etc/default-expiry", "4294967000\n");  // past 2106: never
    VmailmgrStore far(settings);
    ASSERT_TRUE(far.lookup("old@example.org", "", &a).is_ok());
    EXPECT_EQ(a.record.expiry, vmailmgr::kUnlimited);
}

TEST_F(VmailmgrStoreTest, ControlFileLinesLoseTrailingWhiteSpace)
{
    // both.example.test is local (locals beats virtualdomains) although its locals line ends
    // in blanks and a CR; example.org's prefix line ends in a form feed
    testsupport::write_file(dir / "qmail/control/locals", "localhost\nboth.example.test \t\r\n");
    // (info.example.test names vm-info, so that it is a base user at all)
    testsupport::write_file(dir / "qmail/control/virtualdomains",
                            "example.org:exorg\f\r\nboth.example.test:vm\nexample.info:\nexample.info:  \r\n"
                            "info.example.test:vm-info\n");
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    ASSERT_TRUE(store.lookup("exorg-alice@both.example.test", "", &a).is_ok());
    EXPECT_EQ(a.base.name, "exorg");
    ASSERT_TRUE(store.lookup("alice@example.org", "", &a).is_ok());
    EXPECT_EQ(a.virtual_name, "alice");
    // an empty prefix is no entry: the name stays as it is
    ASSERT_TRUE(store.lookup("vm-info-desk@example.info", "", &a).is_ok());
    EXPECT_EQ(a.base.name, "vm-info");
    EXPECT_EQ(store.lookup("desk@example.info", "", &a).verdict, Verdict::UserUnknown);
}

TEST_F(VmailmgrStoreTest, EmptySettingFilesAreUnset)
{
    // config_read(): an empty first line is no setting, so the next level or the default
    // applies: an empty ~/.vmailmgr/password-file means passwd.cdb, an empty global
    // separators file means "@:"
    testsupport::write_file(dir / "exorg/.vmailmgr/password-file", "\n");
    testsupport::chown_tree(dir / "exorg/.vmailmgr", 2101, 2101);
    testsupport::write_file(dir / "etc/separators", " \t\n");
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    Outcome o = store.lookup("alice@example.org", "", &a);
    ASSERT_TRUE(o.is_ok()) << o.reason;
    EXPECT_EQ(a.record.password, "$0$Alice");
    EXPECT_EQ(store.lookup("alice%example.org", "", &a).verdict, Verdict::UserUnknown);  // '%' no longer splits
    ASSERT_TRUE(store.lookup("alice:example.org", "", &a).is_ok());
}

TEST_F(VmailmgrStoreTest, NumericSettingsWithoutANumberFallThrough)
{
    // read_uns(): a level whose value starts with no number is skipped; digits then
    // anything are that number
    testsupport::write_cdb(dir / "exorg/passwd.cdb", {{"old", ":$0$Old:./users/old"}});
    testsupport::write_file(dir / "exorg/.vmailmgr/default-hardquota", "lots\n");
    testsupport::write_file(dir / "exorg/.vmailmgr/default-msgcount", "\n");
    testsupport::write_file(dir / "exorg/.vmailmgr/default-msgsize", "2048 bytes\n");
    testsupport::chown_tree(dir / "exorg/.vmailmgr", 2101, 2101);
    testsupport::write_file(dir / "etc/default-hardquota", "5000000\n");
    testsupport::write_file(dir / "etc/default-msgcount", "300\n");
    testsupport::write_file(dir / "etc/default-softquota", "none\n");
    VmailmgrStore store(settings);
    VmailmgrAccount a;
    Outcome o = store.lookup("old@example.org", "", &a);
    ASSERT_TRUE(o.is_ok()) << o.reason;
    EXPECT_EQ(a.record.hardquota, 5000000u);
    EXPECT_EQ(a.record.msgcount, 300u);
    EXPECT_EQ(a.record.msgsize, 2048u);
    EXPECT_EQ(a.record.softquota, vmailmgr::kUnlimited);  // no level has a number: the default
    testsupport::write_file(dir / "etc/default-softquota", "4294967296\n");
    VmailmgrStore big(settings);
    o = big.lookup("old@example.org", "", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("does not fit in 32 bits"), std::string::npos) << o.reason;
}
