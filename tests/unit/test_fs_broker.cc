// The store broker, spoken to as a compromised auth process would: it must act only for the
// stores' owners, only on the stores' own files, hold no right beyond switching to them, and
// be noticed when gone.
#include <fcntl.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "broker_server.h"
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

// The vmailmgr base user "bob" (uid/gid 1001), home set by the test: no /etc/passwd entry
// needed. The broker is a fork of this process, so it finds bob this way too.
std::string bob_home;
bool find_bob(const std::string &name, broker_server::BaseUserEntry *out)
{
    if (name != "bob")
        return false;
    *out = {1001, 1001, bob_home};
    return true;
}

// users/cdb replaced as qmail-newu does it: a new file renamed over the old.
void newu(const std::string &qm, const testsupport::Records &records)
{
    testsupport::write_cdb(qm + "/users/cdb.tmp", records);
    ::chmod((qm + "/users/cdb.tmp").c_str(), 0644);
    ::rename((qm + "/users/cdb.tmp").c_str(), (qm + "/users/cdb").c_str());
}

}  // namespace

// One test: the broker is one per process, and the last step kills it.
TEST(FsBroker, ServesTheStoresFilesOnly)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "the broker needs root";
    testsupport::TempDir t;
    const std::string qm = t / "qmail", vp = t / "vpopmail", dom = vp + "/domains/ex.org", joe = t / "joe";
    testsupport::make_dirs(qm + "/users");
    // a vpopmail domain, and a qmail user (+joe-) whose home is not the store's
    testsupport::write_cdb(qm + "/users/cdb", {{"!ex.org-", assign_value("ex.org", 89, dom)},
                                               {"!joe-", assign_value("joe", 4321, joe)}});
    ::chmod((qm + "/users/cdb").c_str(), 0644);  // as qmail-newu leaves it
    testsupport::make_dirs(dom + "/alice/Maildir/cur");
    testsupport::make_dirs(vp + "/etc/defaultdomain");  // a directory where a file belongs
    testsupport::write_file(dom + "/vpasswd", "secret of ex.org\n");
    testsupport::write_file(dom + "/alice/Maildir/cur/1.msg", "mail\n");
    testsupport::chown_tree(vp, 89, 89);
    ::chmod(vp.c_str(), 0700);
    ::chmod((dom + "/vpasswd").c_str(), 0600);
    ::symlink((dom + "/vpasswd").c_str(), (dom + "/vpasswd.cdb").c_str());
    ::lchown((dom + "/vpasswd.cdb").c_str(), 89, 89);
    testsupport::write_file(joe + "/vpasswd", "joe's\n");
    testsupport::chown_tree(joe, 4321, 4321);
    // a store file of root's: the domain's rights do not open it
    testsupport::write_file(dom + "/.qmailadmin-limits", "root's\n");
    ::chown((dom + "/.qmailadmin-limits").c_str(), 0, 0);
    ::chmod((dom + "/.qmailadmin-limits").c_str(), 0600);

    // a second domain of the same owner, removed from users/cdb later; a user in a hash directory
    const std::string gone = vp + "/domains/gone.org";
    testsupport::write_file(gone + "/vpasswd", "gone\n");
    testsupport::make_dirs(dom + "/0/bob");
    testsupport::chown_tree(gone, 89, 89);
    testsupport::chown_tree(dom + "/0", 89, 89);
    const testsupport::Records both = {{"!ex.org-", assign_value("ex.org", 89, dom)},
                                       {"!gone.org-", assign_value("gone.org", 89, gone)},
                                       {"!joe-", assign_value("joe", 4321, joe)}};
    newu(qm, both);

    // a vmailmgr base user: its store, its settings, and other files of its home
    const std::string vq = t / "vm-qmail", vetc = t / "vm-etc";
    bob_home = t / "bob";
    testsupport::make_dirs(vq + "/control");
    testsupport::make_dirs(vetc);
    // a prefix with a '-' and capitals leads to bob as it does for the store: bob-org is no
    // account, so checkvpw's right-to-left search stops at bob (vmailmgr_paths::find_base_user)
    testsupport::write_file(vq + "/control/virtualdomains", "example.org:Bob-Org\n");
    testsupport::make_dirs(bob_home + "/.vmailmgr");
    testsupport::write_file(bob_home + "/passwd.cdb", "bob's store\n");
    testsupport::write_file(bob_home + "/other.cdb", "bob's other store\n");
    testsupport::write_file(bob_home + "/.vmailmgr/secret", "not a setting\n");
    testsupport::write_file(bob_home + "/.vmailmgr/default-expiry", "3600\n");
    testsupport::chown_tree(bob_home, 1001, 1001);
    const FsOwner bob{1001, 1001, "base user bob"};

    std::string error;
    broker_server::set_base_user_lookup(find_bob);
    ASSERT_TRUE(fs_broker::start(&error)) << error;
    fs_broker::set_lost_handler(on_lost);
    ASSERT_TRUE(fs_broker::add_store({BrokeredStore::Kind::Vpopmail, qm, vp, {}, 0}, &error)) << error;
    ASSERT_TRUE(fs_broker::add_store({BrokeredStore::Kind::Vmailmgr, vq, vetc, {}, 500}, &error)) << error;
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

    // the broker's FileAccess; each call's answer kept for the messages checked below
    FileAccess &broker = fs_broker::files();
    FsStatus last;
    auto open_read = [&](const FsOwner &o, const std::string &path, UniqueFd *out) {
        return (last = broker.open_read(&o, path, out)).err;
    };
    auto lstat_as = [&](const FsOwner &o, const std::string &path, struct stat *out) {
        return (last = broker.lstat(&o, path, out)).err;
    };
    auto statfs_as = [&](const FsOwner &o, const std::string &path, unsigned long *out) {
        return (last = broker.statfs_type(&o, path, out)).err;
    };
    auto add_watch = [&](const FsOwner &o, int in_fd, const std::string &dir, uint32_t mask, int *out) {
        return (last = broker.add_watch(&o, in_fd, dir, mask, out)).err;
    };
    auto replace_lastauth = [&](const FsOwner &o, const std::string &dir, const std::string &content,
                                std::string *why) {
        last = broker.replace_lastauth(o, dir, content);
        *why = last.detail;
        return last.err;
    };
    const FsOwner vpopmail{89, 89, "domain ex.org"};
    UniqueFd fd;
    ASSERT_EQ(open_read(vpopmail, dom + "/vpasswd", &fd), 0) << last.message("open", dom + "/vpasswd");
    EXPECT_EQ(read_fd(fd.get()), "secret of ex.org\n");
    struct stat st;
    ASSERT_EQ(lstat_as(vpopmail, dom + "/vpasswd", &st), 0);
    EXPECT_EQ(st.st_uid, 89u);
    // between requests it has nobody's file rights (real, effective, saved, fs uid)
    EXPECT_EQ(status_line(pid, "Uid"), "\t0\t0\t0\t65534");
    EXPECT_EQ(lstat_as(vpopmail, dom + "/alice/lastauth", &st), ENOENT);
    EXPECT_EQ(open_read(vpopmail, dom + "/vpasswd.cdb", &fd), ELOOP);  // O_NOFOLLOW
    EXPECT_EQ(open_read(vpopmail, vp + "/etc/defaultdomain", &fd), EISDIR);
    unsigned long type = 0;
    EXPECT_EQ(statfs_as(vpopmail, dom, &type), 0);
    EXPECT_NE(type, 0ul);

    // the store owner's rights, not root's
    EXPECT_EQ(open_read(vpopmail, dom + "/.qmailadmin-limits", &fd), EACCES);
    // the owner's files that are not the store's: mail, directories, other names
    EXPECT_EQ(open_read(vpopmail, dom + "/alice/Maildir/cur/1.msg", &fd), EPERM);
    EXPECT_NE(last.detail.find("not a file of a store it serves"), std::string::npos);
    EXPECT_EQ(open_read(vpopmail, dom + "/alice/Maildir/cur", &fd), EPERM);
    EXPECT_EQ(lstat_as(vpopmail, dom + "/alice/Maildir", &st), EPERM);
    EXPECT_EQ(open_read(vpopmail, dom + "/../ex.org/vpasswd", &fd), EPERM);
    EXPECT_EQ(open_read(vpopmail, "/proc/self/environ", &fd), EPERM);
    // what the stores in the auth process are handed: while it is root (preinit) their calls
    // are its own, as the owner; the broker's only once it gave up root
    EXPECT_TRUE(fs_broker::process_files().open_read(&vpopmail, dom + "/alice/Maildir/cur/1.msg", &fd).ok());
    EXPECT_EQ(fs_broker::process_files().open_read(&vpopmail, dom + "/.qmailadmin-limits", &fd).err, EACCES);
    // owners the stores do not have: a qmail user of users/cdb, gid shadow, root
    EXPECT_EQ(open_read(FsOwner{4321, 4321, "x"}, joe + "/vpasswd", &fd), EPERM);
    EXPECT_EQ(open_read(FsOwner{89, 42, "x"}, dom + "/vpasswd", &fd), EPERM);
    EXPECT_EQ(open_read(FsOwner{0, 0, "root"}, dom + "/vpasswd", &fd), EPERM);
    EXPECT_EQ(lstat_as(vpopmail, "relative/vpasswd", &st), EPERM);
    // no store can be added once a file was asked for
    EXPECT_FALSE(fs_broker::add_store({BrokeredStore::Kind::Vpopmail, t / "evil", t.path(), {}, 0}, &error));

    // a watch set by the broker reports to this process's inotify instance; directories of
    // the store only
    UniqueFd in(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    int wd = -1;
    ASSERT_EQ(add_watch(vpopmail, in.get(), dom, IN_CREATE | IN_MOVED_TO, &wd), 0);
    EXPECT_GE(wd, 0);
    EXPECT_EQ(add_watch(vpopmail, in.get(), dom + "/alice/Maildir/cur", IN_CREATE, &wd), EPERM);
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    EXPECT_EQ(add_watch(vpopmail, pipe_fds[0], dom, IN_CREATE, &wd), EINVAL);  // not an inotify fd
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);

    // lastauth: in a user's directory, as the domain, an address only; announced by the watch
    ASSERT_EQ(replace_lastauth(vpopmail, dom + "/alice", "127.0.0.1", &error), 0) << error;
    ASSERT_EQ(::lstat((dom + "/alice/lastauth").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 89u);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(replace_lastauth(vpopmail, dom + "/alice", "#!/bin/sh", &error), EPERM);
    EXPECT_EQ(replace_lastauth(vpopmail, dom, "127.0.0.1", &error), EPERM);  // the domain dir itself
    EXPECT_EQ(replace_lastauth(vpopmail, t.path(), "127.0.0.1", &error), EPERM);
    EXPECT_EQ(lstat_as(vpopmail, dom + "/alice/lastauth", &st), 0);
    char ev[4096];
    EXPECT_EQ(::read(in.get(), ev, sizeof(ev)), -1);  // alice's directory is not watched
    testsupport::write_file(dom + "/new", "x");
    EXPECT_GT(::read(in.get(), ev, sizeof(ev)), 0);

    // lastauth only in a user's own directory: never in the Maildir, new/cur/tmp, a folder
    testsupport::make_dirs(dom + "/alice/Maildir/.Sent/cur");
    testsupport::chown_tree(dom + "/alice", 89, 89);
    for (const std::string &mail : {dom + "/alice/Maildir/cur", dom + "/alice/Maildir", dom + "/alice/Maildir/.Sent",
                                    dom + "/alice/Maildir/.Sent/cur", dom + "/alice/Maildir/new"}) {
        EXPECT_EQ(replace_lastauth(vpopmail, mail, "127.0.0.1", &error), EPERM) << mail;
        EXPECT_NE(error.find("mail or dot directory"), std::string::npos) << error;
        EXPECT_NE(::access((mail + "/lastauth").c_str(), F_OK), 0) << mail;
    }
    EXPECT_EQ(lstat_as(vpopmail, dom + "/alice/Maildir/cur/lastauth", &st), EPERM);
    EXPECT_EQ(replace_lastauth(vpopmail, dom + "/0/bob", "127.0.0.1", &error), 0) << error;
    EXPECT_EQ(replace_lastauth(vpopmail, dom + "/alice/x", "127.0.0.1", &error), EPERM);

    // vmailmgr: the store password-file names and the settings the driver reads, nothing else
    EXPECT_EQ(open_read(bob, bob_home + "/passwd.cdb", &fd), 0);
    EXPECT_EQ(open_read(bob, bob_home + "/.vmailmgr/default-expiry", &fd), 0);
    EXPECT_EQ(open_read(bob, bob_home + "/.vmailmgr/password-file", &fd), ENOENT);
    EXPECT_EQ(open_read(bob, bob_home + "/other.cdb", &fd), EPERM);
    EXPECT_NE(last.detail.find("password-file"), std::string::npos);
    EXPECT_EQ(open_read(bob, bob_home + "/.vmailmgr/secret", &fd), EPERM);
    EXPECT_EQ(lstat_as(bob, bob_home + "/.vmailmgr/secret", &st), EPERM);
    testsupport::write_file(bob_home + "/.vmailmgr/password-file", " other\n");
    ::chown((bob_home + "/.vmailmgr/password-file").c_str(), 1001, 1001);
    EXPECT_EQ(open_read(bob, bob_home + "/other.cdb", &fd), 0);
    EXPECT_EQ(read_fd(fd.get()), "bob's other store\n");
    EXPECT_EQ(open_read(bob, bob_home + "/passwd.cdb", &fd), EPERM);
    // a password-file the base user cannot read, or a FIFO, names nothing
    ::chmod((bob_home + "/.vmailmgr/password-file").c_str(), 0);
    EXPECT_EQ(open_read(bob, bob_home + "/other.cdb", &fd), EPERM);

    // a domain removed from users/cdb is refused from the next request on, even within the
    // second of the last refusal
    ASSERT_EQ(open_read(vpopmail, gone + "/vpasswd", &fd), 0);
    EXPECT_EQ(open_read(vpopmail, dom + "/none", &fd), EPERM);  // a refusal: the list was just read
    newu(qm, {{"!ex.org-", assign_value("ex.org", 89, dom)}, {"!joe-", assign_value("joe", 4321, joe)}});
    EXPECT_EQ(open_read(vpopmail, gone + "/vpasswd", &fd), EPERM);
    EXPECT_EQ(open_read(vpopmail, dom + "/vpasswd", &fd), 0);
    // and one added is served at once
    newu(qm, both);
    EXPECT_EQ(open_read(vpopmail, gone + "/vpasswd", &fd), 0);
    // a users/cdb anyone but root could write names no one
    ::chmod((qm + "/users/cdb").c_str(), 0666);
    EXPECT_EQ(open_read(vpopmail, dom + "/vpasswd", &fd), EPERM);
    EXPECT_NE(last.detail.find("not root's alone"), std::string::npos);
    ::chmod((qm + "/users/cdb").c_str(), 0644);
    EXPECT_EQ(open_read(vpopmail, dom + "/vpasswd", &fd), 0);

    // gone: every call fails at once, the glue hears of it once
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    EXPECT_EQ(lstat_as(vpopmail, dom + "/vpasswd", &st), ENOTCONN);
    EXPECT_EQ(open_read(vpopmail, dom + "/vpasswd", &fd), ENOTCONN);
    EXPECT_EQ(lost_calls, 1);
    EXPECT_NE(last.detail.find("store broker"), std::string::npos);
}
