// The store broker, spoken to as a compromised auth process would: it must serve the store's
// owners and no one else, hold no right beyond switching to them, and be noticed when gone.
#include <fcntl.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "fs_broker.h"
#include "test_support.h"

using namespace vstore;

namespace {

std::string assign_value(const std::string &real, unsigned id, const std::string &dir)
{
    const std::string nul("\0", 1);
    return real + nul + std::to_string(id) + nul + std::to_string(id) + nul + dir + std::string("\0-\0", 3);
}

std::string read_fd(int fd)
{
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0)
        out.append(buf, static_cast<size_t>(n));
    return out;
}

std::string status_line(pid_t pid, const std::string &key)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + ":", 0) == 0)
            return line.substr(key.size() + 1);
    return "";
}

int lost_calls = 0;
void on_lost(const std::string &) { lost_calls++; }

}  // namespace

// One test: the broker is one per process, and the last step kills it.
TEST(FsBroker, ServesTheStoreOwnersOnly)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "the broker needs root";
    testsupport::TempDir t;
    const std::string qm = t / "qmail", vp = t / "vpopmail", dom = vp + "/domains/ex.org";
    testsupport::make_dirs(qm + "/users");
    testsupport::write_cdb(qm + "/users/cdb", {{"!ex.org-", assign_value("ex.org", 89, dom)}});
    testsupport::make_dirs(dom);
    testsupport::write_file(dom + "/vpasswd", "secret of ex.org\n");
    testsupport::chown_tree(vp, 89, 89);
    ::chmod(vp.c_str(), 0700);
    ::chmod((dom + "/vpasswd").c_str(), 0600);
    ::symlink((dom + "/vpasswd").c_str(), (dom + "/link").c_str());
    ::lchown((dom + "/link").c_str(), 89, 89);
    // a file of another user, and one of root's, both where uid 89 may look
    const std::string other = t / "other", roots = t / "roots";
    testsupport::write_file(other, "another user's\n");
    ::chown(other.c_str(), 4321, 4321);
    ::chmod(other.c_str(), 0600);
    testsupport::write_file(roots, "root's\n");
    ::chmod(roots.c_str(), 0600);

    std::string error;
    ASSERT_TRUE(fs_broker::start(&error)) << error;
    fs_broker::set_lost_handler(on_lost);
    ASSERT_TRUE(fs_broker::add_store({BrokeredStore::Kind::Vpopmail, qm, vp}, &error)) << error;
    const pid_t pid = fs_broker::pid();
    ASSERT_GT(pid, 0);

    // it keeps CAP_SETUID and CAP_SETGID (bits 7 and 6), nothing else, and cannot gain more
    EXPECT_EQ(status_line(pid, "CapEff"), "\t00000000000000c0");
    EXPECT_EQ(status_line(pid, "CapBnd"), "\t00000000000000c0");
    EXPECT_EQ(status_line(pid, "NoNewPrivs"), "\t1");
    // and holds none of this process's descriptors but its socket (and /dev/null as 0-2)
    int fds = 0;
    for (int fd = 0; fd < 64; fd++)
        fds += ::access(("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd)).c_str(), F_OK) == 0;
    EXPECT_LE(fds, 4);

    const FsOwner vpopmail{89, 89, "domain ex.org"};
    UniqueFd fd;
    ASSERT_EQ(fs_broker::open_read(vpopmail, dom + "/vpasswd", &fd), 0);
    EXPECT_EQ(read_fd(fd.get()), "secret of ex.org\n");
    struct stat st;
    ASSERT_EQ(fs_broker::lstat(vpopmail, dom + "/vpasswd", &st), 0);
    EXPECT_EQ(st.st_uid, 89u);
    EXPECT_EQ(fs_broker::lstat(vpopmail, dom + "/none", &st), ENOENT);
    EXPECT_EQ(fs_broker::open_read(vpopmail, dom + "/link", &fd), ELOOP);  // O_NOFOLLOW
    unsigned long type = 0;
    EXPECT_EQ(fs_broker::statfs_type(vpopmail, dom, &type), 0);
    EXPECT_NE(type, 0ul);

    // the store owner's rights, not root's: another user's file and root's stay closed
    EXPECT_EQ(fs_broker::open_read(vpopmail, other, &fd), EACCES);
    EXPECT_EQ(fs_broker::open_read(vpopmail, roots, &fd), EACCES);
    // owners the store does not name are refused, whatever the file
    EXPECT_EQ(fs_broker::open_read(FsOwner{4321, 4321, "x"}, other, &fd), EPERM);
    EXPECT_NE(errno_message("open", other, EPERM).find("serves no store owner uid 4321"), std::string::npos);
    EXPECT_EQ(fs_broker::open_read(FsOwner{89, 42, "x"}, dom + "/vpasswd", &fd), EPERM);  // gid shadow
    EXPECT_EQ(fs_broker::open_read(FsOwner{0, 0, "root"}, roots, &fd), EPERM);
    EXPECT_EQ(fs_broker::lstat(vpopmail, "relative/path", &st), EPERM);
    // no store can be added once a file was asked for
    EXPECT_FALSE(fs_broker::add_store({BrokeredStore::Kind::Vpopmail, t / "evil", t.path()}, &error));

    // a watch set by the broker reports to this process's inotify instance
    UniqueFd in(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    int wd = -1;
    ASSERT_EQ(fs_broker::add_watch(vpopmail, in.get(), dom, IN_CREATE | IN_MOVED_TO, &wd), 0);
    EXPECT_GE(wd, 0);
    EXPECT_EQ(fs_broker::add_watch(vpopmail, in.get(), dom + "/vpasswd", IN_CREATE, &wd), ENOTDIR);

    // lastauth, written as the domain, and announced by the watch
    ASSERT_EQ(fs_broker::replace_lastauth(vpopmail, dom, "127.0.0.1", &error), 0) << error;
    ASSERT_EQ(::lstat((dom + "/lastauth").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 89u);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    char ev[4096];
    EXPECT_GT(::read(in.get(), ev, sizeof(ev)), 0);
    EXPECT_EQ(fs_broker::replace_lastauth(vpopmail, t.path(), "x", &error), EIO);  // not the domain's to write

    // gone: every call fails at once, the glue hears of it once
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    EXPECT_EQ(fs_broker::lstat(vpopmail, dom + "/vpasswd", &st), ENOTCONN);
    EXPECT_EQ(fs_broker::open_read(vpopmail, dom + "/vpasswd", &fd), ENOTCONN);
    EXPECT_EQ(lost_calls, 1);
    EXPECT_NE(errno_message("open", dom, ENOTCONN).find("store broker"), std::string::npos);
}
