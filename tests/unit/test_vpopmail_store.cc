#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <ctime>

#include <crypt.h>

#include "password_check.h"
#include "test_support.h"
#include "vpopmail_store.h"

using namespace vstore;
using testsupport::TempDir;

namespace {

std::string assign_value(const std::string &real, const std::string &dir)
{
    return real + std::string("\0", 1) + "89" + std::string("\0", 1) + "89" + std::string("\0", 1) +
           dir + std::string("\0-\0", 3);
}

// A small vpopmail store written the way vadddomain/vadduser/qmail-newu lay it out.
class VpopmailStoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        vp = dir / "vpopmail";
        qm = dir / "qmail";
        ex = vp + "/domains/ex.org";
        // ~vpopmail belongs to vpopmail (uid 89, as in users/cdb); what is made in it, too.
        testsupport::make_dirs(vp);
        testsupport::chown_tree(vp, 89, 89);
        testsupport::write_cdb(qm + "/users/cdb",
                               {{"!ex.org-", assign_value("ex.org", ex)},
                                {"!alias.org-", assign_value("ex.org", ex)},
                                {"!lim.org-", assign_value("lim.org", vp + "/domains/0/lim.org")},
                                {"!text.org-", assign_value("text.org", vp + "/domains/text.org")},
                                {"!gone.org-", assign_value("gone.org", vp + "/domains/gone.org")},
                                {"!bad.org-", "bad.org"},
                                {"", "-"}});
        write_users();
        testsupport::write_cdb(vp + "/domains/0/lim.org/vpasswd.cdb",
                               {{"victor", "$6$s$h:1:0:v:" + vp + "/domains/0/lim.org/victor:NOQUOTA"},
                                {"wendy", "$6$s$h:1:8192:w:" + vp + "/domains/0/lim.org/wendy:NOQUOTA"}});
        testsupport::write_file(vp + "/domains/0/lim.org/.qmailadmin-limits", "quota: 0\ndisable_imap\n");
        testsupport::write_file(vp + "/domains/text.org/vpasswd",
                                "tina:$1$a$b:1:0:Tina:" + vp + "/domains/text.org/tina:NOQUOTA:Tina-pw\n"
                                "tom:$1$a$c:1:2:Tom:" + vp + "/domains/text.org/tom:NOQUOTA\n");
        testsupport::write_file(vp + "/etc/defaultdomain", "ex.org\n");
        testsupport::write_file(vp + "/etc/vlimits.default", "maxpopaccounts -1\n");
        std::string error;
        ASSERT_TRUE(VpopmailSettings::parse("vpopmail_dir=" + vp + " qmail_dir=" + qm + " webmail_ips=127.0.0.1",
                                            &settings, &error))
            << error;
    }

    void write_users(const testsupport::Records &extra = {})
    {
        testsupport::Records recs = {
            {"alice", "$1$s$h:1:0:Alice:" + ex + "/alice:NOQUOTA:Alice-pw"},
            {"carol", "$1$s$h:1:8:carol:" + ex + "/carol:5242880S"},
            {"dave", "$1$s$h:1:4:dave:" + ex + "/0/dave:NOQUOTA"},
            {"broken", "$1$s$h:1:x8:broken:" + ex + "/broken:NOQUOTA"},
            {"\n", "junk tail of a long line"},
        };
        recs.insert(recs.end(), extra.begin(), extra.end());
        testsupport::write_cdb(ex + "/vpasswd.cdb", recs);
    }

    TempDir dir;
    std::string vp, qm, ex;
    VpopmailSettings settings;
};

}  // namespace

TEST_F(VpopmailStoreTest, FindsUserInRealDomain)
{
    VpopmailStore store(settings);
    VpopmailAccount a;
    Outcome o = store.lookup("Alice@EX.org", &a);
    ASSERT_TRUE(o.is_ok()) << o.reason;
    EXPECT_EQ(a.canonical_name(), "alice@ex.org");
    EXPECT_EQ(a.domain.uid, 89u);
    EXPECT_EQ(a.domain.dir, ex);
    EXPECT_EQ(a.pw.dir, ex + "/alice");
    EXPECT_EQ(a.pw.clear, "Alice-pw");
}

TEST_F(VpopmailStoreTest, AliasDomainResolvesToRealDomain)
{
    VpopmailStore store(settings);
    VpopmailAccount a;
    ASSERT_TRUE(store.lookup("alice%alias.org", &a).is_ok());
    EXPECT_EQ(a.canonical_name(), "alice@ex.org");
    EXPECT_EQ(a.login_domain, "alias.org");
}

TEST_F(VpopmailStoreTest, DefaultDomainFromFileOrArgument)
{
    VpopmailStore store(settings);
    VpopmailAccount a;
    ASSERT_TRUE(store.lookup("alice", &a).is_ok());
    EXPECT_EQ(a.canonical_name(), "alice@ex.org");
    ASSERT_TRUE(store.lookup("alice@", &a).is_ok());

    VpopmailSettings s2 = settings;
    s2.default_domain = "lim.org";
    VpopmailStore store2(s2);
    ASSERT_TRUE(store2.lookup("victor", &a).is_ok());

    ::unlink((vp + "/etc/defaultdomain").c_str());
    Outcome o = store.lookup("alice", &a);
    EXPECT_EQ(o.verdict, Verdict::UserUnknown);
    EXPECT_NE(o.reason.find("default domain"), std::string::npos) << o.reason;
}

TEST_F(VpopmailStoreTest, UnknownUsersAndDomainsAndInvalidLogins)
{
    VpopmailStore store(settings);
    VpopmailAccount a;
    EXPECT_EQ(store.lookup("nobody@ex.org", &a).verdict, Verdict::UserUnknown);
    EXPECT_EQ(store.lookup("alice@nowhere.org", &a).verdict, Verdict::UserUnknown);
    EXPECT_EQ(store.lookup("al ice@ex.org", &a).verdict, Verdict::InvalidLogin);
    // the junk key vpopmail 5.4.33 leaves behind is not a user
    EXPECT_EQ(store.lookup("\n@ex.org", &a).verdict, Verdict::InvalidLogin);
}

TEST_F(VpopmailStoreTest, TextVpasswdWhenCdbIsMissing)
{
    VpopmailStore store(settings);
    VpopmailAccount a;
    Outcome o = store.lookup("tina@text.org", &a);
    ASSERT_TRUE(o.is_ok()) << o.reason;
    EXPECT_EQ(a.pw.clear, "Tina-pw");
    ASSERT_FALSE(a.notes.empty());
    EXPECT_NE(a.notes.back().find("vpasswd.cdb is missing"), std::string::npos);
    EXPECT_EQ(store.lookup("nobody@text.org", &a).verdict, Verdict::UserUnknown);
}

TEST_F(VpopmailStoreTest, OversizedFilesAndRecordsAreFaultsOfTheirDomainOrUser)
{
    // what a domain's owner can write: a padded limits file, a padded text vpasswd, a record
    // with a 20 MiB home; each a store fault naming the file and its size, others served
    testsupport::write_file(vp + "/domains/0/lim.org/.qmailadmin-limits",
                            "disable_imap\n" + std::string(16 << 20, '#'));
    testsupport::write_file(vp + "/domains/text.org/vpasswd",
                            "tina:$1$a$b:1:0:Tina:" + vp + "/domains/text.org/tina:NOQUOTA\n" +
                                std::string(3 << 20, '#'));
    write_users({{"huge", "$1$s$h:1:0:Huge:" + ex + "/" + std::string(20 << 20, 'h') + ":NOQUOTA"},
                 {"big", "$1$s$h:1:0:" + std::string(2000, 'g') + ":" + ex + "/big:NOQUOTA"}});
    VpopmailStore store(settings);
    VpopmailAccount a;
    Outcome o = store.lookup("victor@lim.org", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find(".qmailadmin-limits is too large (16777229 bytes, limit 8192)"), std::string::npos)
        << o.reason;
    o = store.lookup("tina@text.org", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("vpasswd is too large"), std::string::npos) << o.reason;
    o = store.lookup("huge@ex.org", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("bytes"), std::string::npos) << o.reason;
    o = store.lookup("big@ex.org", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("pw_gecos is 2000 bytes, over the limit of 1024"), std::string::npos) << o.reason;
    EXPECT_TRUE(store.lookup("alice@ex.org", &a).is_ok());
}

TEST_F(VpopmailStoreTest, TextVpasswdIsReadAgainAfterTheCacheLetItGo)
{
    // a text vpasswd is not kept with its domain: more such domains than the cache holds
    // still each answer from their own file
    std::vector<std::pair<std::string, std::string>> assign = {{"!ex.org-", assign_value("ex.org", ex)}};
    for (int i = 0; i < 12; i++) {
        const std::string d = "t" + std::to_string(i) + ".org", path = vp + "/domains/" + d;
        assign.push_back({"!" + d + "-", assign_value(d, path)});
        testsupport::write_file(path + "/vpasswd", "u:$1$a$b:1:0:U" + std::to_string(i) + ":" + path + "/u:NOQUOTA\n");
    }
    testsupport::write_cdb(qm + "/users/cdb", assign);
    VpopmailStore store(settings);
    VpopmailAccount a;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 12; i++) {
            Outcome o = store.lookup("u@t" + std::to_string(i) + ".org", &a);
            ASSERT_TRUE(o.is_ok()) << o.reason;
            EXPECT_EQ(a.pw.gecos, "U" + std::to_string(i));
        }
}

TEST_F(VpopmailStoreTest, StoreFaultsAreNotUnknownUsers)
{
    VpopmailStore store(settings);
    VpopmailAccount a;
    Outcome o = store.lookup("broken@ex.org", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("flags"), std::string::npos) << o.reason;
    o = store.lookup("alice@gone.org", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault) << o.reason;
    o = store.lookup("alice@bad.org", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault) << o.reason;

    testsupport::write_file(ex + "/vpasswd.cdb", "");  // zero-length store
    o = store.lookup("alice@ex.org", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("truncated"), std::string::npos) << o.reason;

    ::unlink((qm + "/users/cdb").c_str());
    o = store.lookup("alice@ex.org", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("qmail-newu"), std::string::npos) << o.reason;
}

TEST_F(VpopmailStoreTest, UnreadableStoreIsAFault)
{
    // As root too: the store is opened with the domain's rights, not root's.
    ::chmod((ex + "/vpasswd.cdb").c_str(), 0);
    VpopmailStore store(settings);
    VpopmailAccount a;
    EXPECT_EQ(store.lookup("alice@ex.org", &a).verdict, Verdict::StoreFault);
}

TEST_F(VpopmailStoreTest, DomainLimitsAndOverride)
{
    VpopmailStore store(settings);
    VpopmailAccount a;
    ASSERT_TRUE(store.lookup("victor@lim.org", &a).is_ok());
    EXPECT_EQ(a.limits_mask, vpopmail::NO_IMAP);
    EXPECT_EQ(store.check_service(a, "imap", "127.0.0.2").verdict, Verdict::Disabled);
    EXPECT_TRUE(store.check_service(a, "pop3", "127.0.0.2").is_ok());
    EXPECT_TRUE(store.check_service(a, "imap", "127.0.0.1").is_ok());  // webmail
    ASSERT_TRUE(store.lookup("wendy@lim.org", &a).is_ok());
    EXPECT_TRUE(store.check_service(a, "imap", "127.0.0.2").is_ok());
}

TEST_F(VpopmailStoreTest, UserFlagsAndWebmail)
{
    VpopmailStore store(settings);
    VpopmailAccount a;
    ASSERT_TRUE(store.lookup("carol@ex.org", &a).is_ok());
    Outcome o = store.check_service(a, "imap", "127.0.0.2");
    EXPECT_EQ(o.verdict, Verdict::Disabled);
    EXPECT_NE(o.reason.find("NO_IMAP"), std::string::npos) << o.reason;
    EXPECT_TRUE(store.check_service(a, "imap", "::ffff:127.0.0.1").is_ok());
    ASSERT_TRUE(store.lookup("dave@ex.org", &a).is_ok());
    EXPECT_EQ(store.check_service(a, "pop3", "127.0.0.1").verdict, Verdict::Disabled);
    EXPECT_TRUE(store.check_service(a, "pop3", "").is_ok());
}

TEST_F(VpopmailStoreTest, RewrittenStoreIsSeenOnNextLookup)
{
    VpopmailStore store(settings);
    VpopmailAccount a;
    EXPECT_EQ(store.lookup("newbie@ex.org", &a).verdict, Verdict::UserUnknown);
    write_users({{"newbie", "$1$s$h:1:0:N:" + ex + "/newbie:NOQUOTA"}});
    EXPECT_TRUE(store.lookup("newbie@ex.org", &a).is_ok());
    EXPECT_TRUE(store.lookup("alice@ex.org", &a).is_ok());
}

TEST_F(VpopmailStoreTest, IteratesRealDomainsOnly)
{
    VpopmailStore store(settings);
    auto it = store.iterate();
    std::vector<std::string> users;
    std::string name, err;
    VpopmailStore::Iterator::Step step;
    ::rmdir((vp + "/domains/gone.org").c_str());
    while ((step = it->next(&name, &err)) == VpopmailStore::Iterator::Step::User)
        users.push_back(name);
    ASSERT_EQ(step, VpopmailStore::Iterator::Step::End) << err;
    std::sort(users.begin(), users.end());
    std::vector<std::string> expected = {"alice@ex.org",   "broken@ex.org",  "carol@ex.org",
                                         "dave@ex.org",    "tina@text.org",  "tom@text.org",
                                         "victor@lim.org", "wendy@lim.org"};
    EXPECT_EQ(users, expected);
}

TEST_F(VpopmailStoreTest, LastauthIsWrittenLikeVchkpw)
{
    VpopmailStore store(settings);
    VpopmailAccount a;
    ASSERT_TRUE(store.lookup("alice@ex.org", &a).is_ok());
    testsupport::make_dirs(a.pw.dir);
    bool written = false;
    Outcome o = store.touch_lastauth(a, "192.0.2.7", time(nullptr), &written);
    ASSERT_TRUE(o.is_ok()) << o.reason;
    EXPECT_TRUE(written);
    ReadResult r = read_file(a.pw.dir + "/lastauth", 100);
    EXPECT_EQ(r.content, "192.0.2.7");  // no newline, as vchkpw
    struct stat st;
    ASSERT_EQ(::stat((a.pw.dir + "/lastauth").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    if (geteuid() == 0) {
        EXPECT_EQ(st.st_uid, 89u);
        EXPECT_EQ(st.st_gid, 89u);
    }
    // younger than lastauth_interval (60 s): not rewritten
    EXPECT_TRUE(store.touch_lastauth(a, "192.0.2.8", time(nullptr), &written).is_ok());
    EXPECT_FALSE(written);
    EXPECT_EQ(read_file(a.pw.dir + "/lastauth", 100).content, "192.0.2.7");
    // older: rewritten
    EXPECT_TRUE(store.touch_lastauth(a, "192.0.2.8", time(nullptr) + 61, &written).is_ok());
    EXPECT_TRUE(written);
    EXPECT_EQ(read_file(a.pw.dir + "/lastauth", 100).content, "192.0.2.8");
    // a missing user directory is a reported failure, not an exception
    ASSERT_TRUE(store.lookup("carol@ex.org", &a).is_ok());
    o = store.touch_lastauth(a, "192.0.2.9", time(nullptr), &written);
    EXPECT_FALSE(o.is_ok());
    EXPECT_FALSE(written);
    EXPECT_NE(o.reason.find("No such file"), std::string::npos) << o.reason;
}

TEST_F(VpopmailStoreTest, RootOwnedDomainIsAFault)
{
    testsupport::write_cdb(qm + "/users/cdb",
                           {{"!ex.org-", "ex.org" + std::string("\0", 1) + "0" + std::string("\0", 1) + "0" +
                                             std::string("\0", 1) + ex + std::string("\0-\0", 3)}});
    VpopmailStore store(settings);
    VpopmailAccount a;
    Outcome o = store.lookup("alice@ex.org", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("never belongs to root"), std::string::npos) << o.reason;
}

TEST_F(VpopmailStoreTest, HomesOutsideTheDomainAreFaults)
{
    write_users({{"mallory", "$1$s$h:1:0:m:/etc/cron.daily:NOQUOTA"},
                 {"dotdot", "$1$s$h:1:0:m:" + ex + "/../../../etc:NOQUOTA"},
                 {"moved", "$1$s$h:1:0:m:/mnt/disk2/ex.org/moved:NOQUOTA"}});
    VpopmailStore store(settings);
    VpopmailAccount a;
    for (const char *login : {"mallory@ex.org", "dotdot@ex.org", "moved@ex.org"}) {
        Outcome o = store.lookup(login, &a);
        EXPECT_EQ(o.verdict, Verdict::StoreFault) << login;
    }
    settings.access.home_roots = {"/mnt/disk2"};
    VpopmailStore moved(settings);
    EXPECT_TRUE(moved.lookup("moved@ex.org", &a).is_ok());
    EXPECT_EQ(moved.lookup("mallory@ex.org", &a).verdict, Verdict::StoreFault);
}

TEST_F(VpopmailStoreTest, LastauthNeverFollowsALinkOrLeavesATempFile)
{
    VpopmailStore store(settings);
    VpopmailAccount a;
    ASSERT_TRUE(store.lookup("alice@ex.org", &a).is_ok());
    // the user's directory replaced by a link to a directory the domain may not write
    testsupport::make_dirs(dir / "rootdir");
    testsupport::write_file(dir / "rootdir/lastauth", "root-content");
    ASSERT_EQ(::symlink((dir / "rootdir").c_str(), a.pw.dir.c_str()), 0);
    bool written = false;
    Outcome o = store.touch_lastauth(a, "192.0.2.7", time(nullptr) + 3600, &written);
    EXPECT_FALSE(o.is_ok());
    EXPECT_NE(o.reason.find("symbolic link"), std::string::npos) << o.reason;
    EXPECT_EQ(read_file(dir / "rootdir/lastauth", 100).content, "root-content");
    ::unlink(a.pw.dir.c_str());
    // a directory the domain cannot write in: refused, nothing left behind
    testsupport::make_dirs(a.pw.dir);
    if (geteuid() == 0) {
        ASSERT_EQ(::chown(a.pw.dir.c_str(), 0, 0), 0);
        o = store.touch_lastauth(a, "192.0.2.7", time(nullptr), &written);
        EXPECT_FALSE(o.is_ok());
        EXPECT_NE(o.reason.find("Permission denied"), std::string::npos) << o.reason;
        ASSERT_EQ(::chown(a.pw.dir.c_str(), 89, 89), 0);
    }
    // tried within lastauth_interval of that failure: not again (nor logged again)
    ASSERT_TRUE(store.touch_lastauth(a, "192.0.2.7", time(nullptr), &written).is_ok());
    EXPECT_FALSE(written);
    ASSERT_TRUE(store.touch_lastauth(a, "192.0.2.7", time(nullptr) + 120, &written).is_ok());
    EXPECT_TRUE(written);
    std::string names;
    for (const auto &e : std::filesystem::directory_iterator(a.pw.dir))
        names += e.path().filename().string() + " ";
    EXPECT_EQ(names, "lastauth ");
}

TEST_F(VpopmailStoreTest, FifoInPlaceOfAStoreFileIsAFaultNotAHang)
{
    ::unlink((vp + "/domains/0/lim.org/.qmailadmin-limits").c_str());
    ASSERT_EQ(::mkfifo((vp + "/domains/0/lim.org/.qmailadmin-limits").c_str(), 0600), 0);
    testsupport::chown_tree(vp + "/domains/0/lim.org/.qmailadmin-limits", 89, 89);  // the domain's own
    VpopmailStore store(settings);
    VpopmailAccount a;
    Outcome o = store.lookup("victor@lim.org", &a);
    EXPECT_EQ(o.verdict, Verdict::StoreFault);
    EXPECT_NE(o.reason.find("is a FIFO"), std::string::npos) << o.reason;
}

TEST_F(VpopmailStoreTest, SharedFsChecksEveryFileAtEveryLookup)
{
    settings.access.shared_fs = SharedFs::Yes;  // no inotify: lstat() of each file per lookup
    VpopmailStore store(settings);
    VpopmailAccount a;
    EXPECT_EQ(store.lookup("newbie@ex.org", &a).verdict, Verdict::UserUnknown);
    ASSERT_TRUE(store.lookup("victor@lim.org", &a).is_ok());
    EXPECT_NE(a.flags, 0u);  // disable_imap from .qmailadmin-limits
    write_users({{"newbie", "$1$s$h:1:0:N:" + ex + "/newbie:NOQUOTA"}});
    EXPECT_TRUE(store.lookup("newbie@ex.org", &a).is_ok());
    ::unlink((vp + "/domains/0/lim.org/.qmailadmin-limits").c_str());
    testsupport::write_file(vp + "/etc/vlimits.default", "");
    ASSERT_TRUE(store.lookup("victor@lim.org", &a).is_ok());
    EXPECT_EQ(a.flags, 0u);  // the limits file went away: seen at once
}

TEST_F(VpopmailStoreTest, RootOwnedVpopmailDirIsReadAsTheProcess)
{
    // A vpopmail_dir that root owns is root's to write: etc/defaultdomain is read with the
    // process's rights (no switch to uid 0, which would be refused).
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root";
    ASSERT_EQ(::chown(vp.c_str(), 0, 0), 0);
    VpopmailStore store(settings);
    VpopmailAccount a;
    Outcome o = store.lookup("alice", &a);
    ASSERT_TRUE(o.is_ok()) << o.reason;
    EXPECT_EQ(a.domain.real_domain, "ex.org");
}

TEST_F(VpopmailStoreTest, DecisionChecksTheHashThenTheService)
{
    VpopmailStore store(settings);
    VpopmailAccount a;
    // carol has NO_IMAP (8): the password is checked first, the refusal comes after a match
    LoginDecision d = store.decide({"carol@ex.org", "imap", "10.0.0.1", ""}, PasswordUse::Plain, &a);
    ASSERT_TRUE(d.before.is_ok()) << d.before.reason;
    EXPECT_EQ(d.user, "carol@ex.org");
    EXPECT_EQ(d.password.scheme, "CRYPT");
    EXPECT_EQ(d.password.hash, "$1$s$h");
    EXPECT_EQ(d.after_match.verdict, Verdict::Disabled);
    // from a webmail address, IMAP counts as webmail
    d = store.decide({"carol@ex.org", "imap", "127.0.0.1", ""}, PasswordUse::Plain, &a);
    EXPECT_TRUE(d.after_match.is_ok()) << d.after_match.reason;
    // challenge-response gets the clear password; a plain login the hash (vchkpw)
    d = store.decide({"alice@ex.org", "imap", "", ""}, PasswordUse::Credentials, &a);
    EXPECT_EQ(d.password.scheme, "PLAIN");
    EXPECT_EQ(d.password.hash, "Alice-pw");
    EXPECT_FALSE(d.password.reply_hash);
    d = store.decide({"alice@ex.org", "imap", "", ""}, PasswordUse::Plain, &a);
    EXPECT_EQ(d.password.scheme, "CRYPT");
    d = store.decide({"nobody@ex.org", "imap", "", ""}, PasswordUse::Plain, &a);
    EXPECT_EQ(d.before.verdict, Verdict::UserUnknown);
    EXPECT_TRUE(d.user.empty());
}

TEST_F(VpopmailStoreTest, SchemePrefixIsStrippedAndCryptedAsVchkpw56)
{
    struct crypt_data cd = {};
    const std::string sha512 = crypt_r("Ken-pw", "$6$saltsalt$", &cd);
    write_users({{"ken", "{SHA512-CRYPT}" + sha512 + ":1:0:ken:" + ex + "/ken:NOQUOTA"},
                 {"pat", "{PLAIN}secret:1:0:pat:" + ex + "/pat:NOQUOTA"},
                 {"empty", "{MD5}:1:0:empty:" + ex + "/empty:NOQUOTA"}});
    VpopmailStore store(settings);
    VpopmailAccount a;
    LoginDecision d = store.decide({"ken@ex.org", "imap", "", ""}, PasswordUse::Plain, &a);
    ASSERT_TRUE(d.before.is_ok()) << d.before.reason;
    EXPECT_EQ(d.password.scheme, "CRYPT");
    EXPECT_EQ(d.password.hash, sha512);
    EXPECT_EQ(verify_password(d.password.scheme, d.password.hash, "Ken-pw"), PasswordMatch::Match);
    // "{PLAIN}secret": vchkpw crypt()s "secret" as a DES salt: never the password "secret"
    d = store.decide({"pat@ex.org", "imap", "", ""}, PasswordUse::Plain, &a);
    ASSERT_TRUE(d.before.is_ok()) << d.before.reason;
    EXPECT_EQ(d.password.scheme, "CRYPT");
    EXPECT_EQ(d.password.hash, "secret");
    EXPECT_EQ(verify_password(d.password.scheme, d.password.hash, "secret"), PasswordMatch::Mismatch);
    // nothing after the prefix: no password at all
    d = store.decide({"empty@ex.org", "imap", "", ""}, PasswordUse::Plain, &a);
    EXPECT_EQ(d.before.verdict, Verdict::Disabled);
}

TEST_F(VpopmailStoreTest, UserdbView)
{
    VpopmailStore store(settings);
    UserdbView v;
    ASSERT_TRUE(store.userdb("carol@ex.org", &v).is_ok());
    EXPECT_EQ(v.user, "carol@ex.org");
    EXPECT_EQ(v.uid, 89u);
    EXPECT_EQ(v.home, ex + "/carol");
    EXPECT_EQ(v.maildir, ex + "/carol/Maildir");
    EXPECT_EQ(v.quota_bytes, std::optional<uint64_t>(5242880));
    EXPECT_FALSE(v.quota_messages);
}

TEST_F(VpopmailStoreTest, EveryRewriteIsSeenAfterAnotherDomainWasRead)
{
    // a store that read another domain first (as a start-up check does) still sees each of
    // several rewrites of a domain's vpasswd.cdb, of the same size, in a row
    VpopmailStore store(settings);
    EXPECT_EQ(store.startup_problems(true, false), std::vector<std::string>());
    UserdbView view;
    ASSERT_TRUE(store.userdb("victor@lim.org", &view).is_ok());
    VpopmailAccount a;
    ASSERT_TRUE(store.lookup("alice@ex.org", &a).is_ok());
    for (const char *hash : {"$1$s$aaaa", "$1$s$bbbb", "$1$s$cccc", "$1$s$dddd"}) {
        write_users({{"pat", std::string(hash) + ":1:0:pat:" + ex + "/pat:NOQUOTA"}});
        ASSERT_TRUE(store.lookup("pat@ex.org", &a).is_ok());
        EXPECT_EQ(a.pw.passwd, hash);
    }
}
