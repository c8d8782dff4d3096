// The rules of store access: whose rights, which paths, what a hash may cost, which file
// systems are trusted to announce changes, and reads that survive a file cut short.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <fstream>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cdb_file.h"
#include "fs_identity.h"
#include "hash_cost.h"
#include "store_access.h"
#include "vmailmgr_settings.h"
#include "vpopmail_settings.h"
#include "test_support.h"

using namespace vstore;
using testsupport::TempDir;

TEST(HashCost, DefaultCostsOfTheRealToolsPass)
{
    HashCostLimits l = testsupport::default_hash_limits();
    for (const char *h : {"$1$abcdefgh$0123456789012345678901", "$6$abcdefgh$x", "$6$rounds=5000$abcdefgh$x",
                          "$5$rounds=1000000$s$x", "$2b$12$VMOdcOavkJD/GYikDbalve", "$y$j9T$salt$hash",
                          "$gy$j9T$salt$hash", "$7$CU..../....RZbHeVMq2hizTtkgUeGnQ1", "_J9..iwrL",
                          "$md5,rounds=38058$1QZD77V1$", "$sha1$243083$WULBFKa57ZqWYEJm5ry1$", "ab01234567890",
                          "", "$6$rounds=$x", "$y$", "$2b$"})
        EXPECT_EQ(hash_cost_refusal(h, l), std::nullopt) << h;
}

TEST(HashCost, CostlyHashesAreRefusedNamingTheSetting)
{
    HashCostLimits l = testsupport::default_hash_limits();
    auto why = hash_cost_refusal("$6$rounds=999999999$abcdefgh$x", l);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("max_crypt_rounds=1000000"), std::string::npos) << *why;
    EXPECT_TRUE(hash_cost_refusal("$5$rounds=1000001$s$x", l));
    EXPECT_TRUE(hash_cost_refusal("$6$rounds=99999999999999999999999999$s$x", l));  // no overflow
    EXPECT_TRUE(hash_cost_refusal("$md5,rounds=2000000$s$", l));
    EXPECT_TRUE(hash_cost_refusal("$sha1$2000000$s$", l));
    EXPECT_TRUE(hash_cost_refusal("_zzzzsalt", l));  // BSDi: 2^24 - 1 iterations
    why = hash_cost_refusal("$2y$15$VMOdcOavkJD/GYikDbalve", l);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("max_bcrypt_cost=14"), std::string::npos) << *why;
    // yescrypt cost 11 in libxcrypt: N = 2^18, r = 32: 1 GiB
    why = hash_cost_refusal("$y$jFT$.HLxOC/CADOlshU0NMaUQ0$x", l);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("1024"), std::string::npos) << *why;
    EXPECT_NE(why->find("max_yescrypt_mib=64"), std::string::npos) << *why;
    EXPECT_TRUE(hash_cost_refusal("$7$IU..../....salt$x", l));   // scrypt N = 2^20, r = 32: 4 GiB
    EXPECT_TRUE(hash_cost_refusal("$y$jzzzzzzT$salt$x", l));      // a multi-character N
    EXPECT_TRUE(hash_cost_refusal("$y$j9TA.$salt$x", l) == std::nullopt);  // optional params, small
}

TEST(HashCost, LimitsAreSettings)
{
    VmailmgrSettings v;
    std::string error;
    ASSERT_TRUE(VmailmgrSettings::parse("max_crypt_rounds=5000 max_bcrypt_cost=10 max_yescrypt_mib=16", &v, &error))
        << error;
    const StoreAccessSettings &s = v.access;
    EXPECT_TRUE(hash_cost_refusal("$6$rounds=5001$s$x", s.hash_limits));
    EXPECT_FALSE(hash_cost_refusal("$6$rounds=5000$s$x", s.hash_limits));
    EXPECT_TRUE(hash_cost_refusal("$2b$11$x", s.hash_limits));
    EXPECT_FALSE(hash_cost_refusal("$y$j9T$salt$x", s.hash_limits));  // 16 MiB
    EXPECT_TRUE(hash_cost_refusal("$y$jAT$salt$x", s.hash_limits));   // 32 MiB
    for (const char *bad : {"max_crypt_rounds=0", "max_crypt_rounds=x", "max_bcrypt_cost=32",
                            "max_yescrypt_mib=-1", "shared_fs=maybe", "home_roots=relative",
                            "home_roots=/a/../b", "home_roots=/"}) {
        EXPECT_FALSE(VmailmgrSettings::parse(bad, &v, &error)) << bad;
    }
}

TEST(HomeRoots, PathsBelowAndOutside)
{
    EXPECT_TRUE(path_is_below("/vp/domains/ex.org/alice", "/vp/domains/ex.org"));
    EXPECT_TRUE(path_is_below("/vp/domains/ex.org/", "/vp/domains/ex.org"));
    EXPECT_FALSE(path_is_below("/vp/domains/ex.organ/alice", "/vp/domains/ex.org"));
    EXPECT_FALSE(path_is_below("/vp/domains/ex.org/../../etc", "/vp/domains/ex.org"));
    EXPECT_FALSE(path_is_below("relative/x", "/vp"));
    EXPECT_EQ(home_refusal("/vp/d/alice", "/vp/d", {}), std::nullopt);
    auto why = home_refusal("/etc/cron.daily", "/vp/d", {});
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("outside /vp/d"), std::string::npos) << *why;
    EXPECT_NE(why->find("home_roots"), std::string::npos) << *why;
    EXPECT_EQ(home_refusal("/mnt/disk2/alice", "/vp/d", {"/mnt/disk2"}), std::nullopt);
    EXPECT_TRUE(home_refusal("/vp/d/./alice", "/vp/d", {}));
    EXPECT_TRUE(home_refusal("/vp/d/al\nice", "/vp/d", {}));
}

TEST(ChangeNotification, LocalFileSystemsAreTrustedSharedOnesNot)
{
    EXPECT_TRUE(change_notification_trusted(0xEF53));      // ext4
    EXPECT_TRUE(change_notification_trusted(0x01021994));  // tmpfs
    EXPECT_FALSE(change_notification_trusted(0x6969));      // NFS
    EXPECT_FALSE(change_notification_trusted(0x65735546));  // FUSE
    EXPECT_FALSE(change_notification_trusted(0xFF534D42));  // CIFS
    EXPECT_FALSE(change_notification_trusted(0x12345678));  // unknown
}

TEST(ChangeNotification, SharedFsYesNeverWatches)
{
    TempDir dir;
    testsupport::write_file(dir / "f", "x");
    ChangeWatcher yes(SharedFs::Yes), no(SharedFs::No), autow(SharedFs::Auto);
    EXPECT_FALSE(yes.watch_parent_of(dir / "f"));
    EXPECT_TRUE(no.watch_parent_of(dir / "f"));
    struct statfs fs;
    ASSERT_EQ(::statfs(dir.path().c_str(), &fs), 0);
    EXPECT_EQ(autow.watch_parent_of(dir / "f"), change_notification_trusted(static_cast<unsigned long>(fs.f_type)));
}

TEST(CdbFile, SmallFileIsASnapshot)
{
    // read whole at open: truncating it in place changes nothing for what is open (the
    // watcher tells the caches to reopen it)
    TempDir dir;
    testsupport::write_cdb(dir / "u.cdb", {{"alice", "x"}});
    bool missing = false;
    std::string err;
    auto f = CdbFile::open(dir / "u.cdb", &missing, &err);
    ASSERT_NE(f, nullptr) << err;
    ASSERT_EQ(::truncate((dir / "u.cdb").c_str(), 0), 0);
    EXPECT_EQ(f->find("alice").status, CdbFile::Status::Found);
    EXPECT_EQ(f->find("alice").value, "x");
}

TEST(CdbFile, TruncatedInPlaceWhileOpenIsAReadErrorNotACrash)
{
    // above the size read whole at open (8 MiB): read with pread() at each lookup
    TempDir dir;
    testsupport::Records recs;
    for (int i = 0; i < 2000; i++)
        recs.emplace_back("user" + std::to_string(i), std::string(5000, 'v'));
    testsupport::write_cdb(dir / "u.cdb", recs);
    bool missing = false;
    std::string err;
    auto f = CdbFile::open(dir / "u.cdb", &missing, &err);
    ASSERT_NE(f, nullptr) << err;
    EXPECT_EQ(f->find("user1999").status, CdbFile::Status::Found);
    ASSERT_EQ(::truncate((dir / "u.cdb").c_str(), 0), 0);  // what mmap turned into SIGBUS
    CdbFile::Hit hit = f->find("user1999");
    EXPECT_EQ(hit.status, CdbFile::Status::Corrupt);
    EXPECT_NE(hit.error.find("shorter than when it was opened"), std::string::npos) << hit.error;
    unsigned pos = 0;
    std::string k, v;
    EXPECT_EQ(f->next(&pos, &k, &v, &err), -1);
}

TEST(CdbFile, FifoIsRefusedWithoutBlocking)
{
    TempDir dir;
    ASSERT_EQ(::mkfifo((dir / "p.cdb").c_str(), 0600), 0);
    bool missing = false;
    std::string err;
    EXPECT_EQ(CdbFile::open(dir / "p.cdb", &missing, &err), nullptr);  // would hang in open() before
    EXPECT_NE(err.find("is a FIFO, not a regular file"), std::string::npos) << err;
    ASSERT_EQ(::symlink((dir / "p.cdb").c_str(), (dir / "l.cdb").c_str()), 0);
    EXPECT_EQ(CdbFile::open(dir / "l.cdb", &missing, &err), nullptr);
    EXPECT_NE(err.find("symbolic link"), std::string::npos) << err;
}

TEST(FsIdentity, OwnersRightsOnThisThreadOnly)
{
    if (!can_switch_fs_identity())
        GTEST_SKIP() << "needs root";
    TempDir dir;
    testsupport::write_file(dir / "root-only", "secret");
    ::chmod((dir / "root-only").c_str(), 0600);
    // A thread started before the switch (as the verification threads are) keeps the
    // process's rights; one started inside it would inherit the switched ones.
    std::mutex m;
    std::condition_variable cv;
    int step = 0;
    ReadStatus other = ReadStatus::Missing;
    std::thread t([&] {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return step == 1; });
        other = read_file(dir / "root-only", 100).status;
        step = 2;
        cv.notify_all();
    });
    {
        ScopedFsIdentity as_owner(FsOwner{89, 89, "test owner"});
        EXPECT_TRUE(as_owner.ok()) << as_owner.error();  // not ASSERT: the thread must be released
        EXPECT_EQ(read_file(dir / "root-only", 100).status, ReadStatus::Error);
        {
            std::unique_lock<std::mutex> lock(m);
            step = 1;
            cv.notify_all();
            cv.wait(lock, [&] { return step == 2; });
        }
        t.join();
        EXPECT_EQ(other, ReadStatus::Ok);
        // group root (a supplementary group of root) is dropped too
        ::chmod((dir / "root-only").c_str(), 0640);
        EXPECT_EQ(read_file(dir / "root-only", 100).status, ReadStatus::Error);
    }
    EXPECT_EQ(read_file(dir / "root-only", 100).status, ReadStatus::Ok);
    ScopedFsIdentity as_root(FsOwner{0, 0, "a record naming root"});
    EXPECT_FALSE(as_root.ok());
}

TEST(FileAccess, EachCallNamesWhoseRightsItTakes)
{
    if (!can_switch_fs_identity())
        GTEST_SKIP() << "needs root";
    TempDir dir;
    testsupport::write_file(dir / "root-only", "secret");
    ::chmod((dir / "root-only").c_str(), 0600);
    const FsOwner owner{89, 89, "test owner"};
    UniqueFd fd;
    // as the owner: the owner's rights for that call, the thread's own again after it
    FsStatus s = owner_rights_files().open_read(&owner, dir / "root-only", &fd);
    EXPECT_EQ(s.err, EACCES);
    EXPECT_EQ(s.message("open", dir / "root-only"), "open(" + (dir / "root-only") + ") failed: Permission denied");
    EXPECT_TRUE(owner_rights_files().open_read(nullptr, dir / "root-only", &fd).ok());
    EXPECT_EQ(read_file(owner_rights_files(), &owner, dir / "root-only", 100).status, ReadStatus::Error);
    EXPECT_EQ(read_file(owner_rights_files(), nullptr, dir / "root-only", 100).status, ReadStatus::Ok);
    // an owner named root is refused before anything is touched, with the reason
    const FsOwner root{0, 0, "a record naming root"};
    struct stat st;
    s = owner_rights_files().lstat(&root, dir / "root-only", &st);
    EXPECT_EQ(s.err, EPERM);
    EXPECT_NE(s.detail.find("refusing to open its files as root"), std::string::npos) << s.detail;
    s = owner_rights_files().replace_lastauth(root, dir.path(), "192.0.2.1");
    EXPECT_EQ(s.err, EPERM);
    EXPECT_NE(::access((dir / "lastauth").c_str(), F_OK), 0);
    // the process's own rights take no owner's
    EXPECT_TRUE(own_rights_files().open_read(&owner, dir / "root-only", &fd).ok());
    EXPECT_EQ(this_process_files().open_read(&owner, dir / "root-only", &fd).err, EACCES);
}
