#include "subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vstore_cli {

namespace {

long long now_ms()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

// Reads the child's pipe up to the bound or the deadline; past either the child is killed (a
// child that is not read any more would block on its write and never be reaped).
void read_bounded(int fd, pid_t pid, size_t max_output, unsigned timeout_seconds, ChildResult *r)
{
    const long long deadline = now_ms() + timeout_seconds * 1000LL;
    char buf[4096];
    for (;;) {
        const long long left = deadline - now_ms();
        if (left <= 0) {
            r->timed_out = true;
            break;
        }
        struct pollfd p = {fd, POLLIN, 0};
        const int ready = poll(&p, 1, static_cast<int>(left));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0) {
            r->timed_out = true;
            break;
        }
        const ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        const size_t room = max_output - r->output.size();
        r->output.append(buf, static_cast<size_t>(n) < room ? static_cast<size_t>(n) : room);
        if (static_cast<size_t>(n) > room) {
            r->cut = true;
            break;
        }
    }
    if (r->timed_out || r->cut)
        kill(pid, SIGKILL);
    close(fd);
    while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR) {
    }
}

// Forks with a pipe: the child runs `child(write end)` and never returns; the parent reads.
ChildResult fork_and_read(const std::function<void(int out_fd)> &child, size_t max_output, unsigned timeout_seconds)
{
    ChildResult r;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        r.spawn_errno = errno;
        return r;
    }
    fflush(nullptr);  // nothing buffered is written twice
    const pid_t pid = fork();
    if (pid < 0) {
        r.spawn_errno = errno;
        close(fds[0]);
        close(fds[1]);
        return r;
    }
    if (pid == 0) {
        close(fds[0]);
        try {
            child(fds[1]);
        } catch (...) {
            // nothing unwinds back into the parent's code in this process
        }
        _exit(127);
    }
    close(fds[1]);
    read_bounded(fds[0], pid, max_output, timeout_seconds, &r);
    return r;
}

}  // namespace

bool ChildResult::exited_ok() const
{
    return spawn_errno == 0 && !cut && !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string ChildResult::how_it_ended(unsigned timeout_seconds) const
{
    if (spawn_errno != 0)
        return std::string("could not start: ") + strerror(spawn_errno);
    if (timed_out)
        return "did not finish within " + std::to_string(timeout_seconds) + " s (killed)";
    if (cut)
        return "wrote more than vstore reads (killed)";
    if (WIFSIGNALED(status))
        return "was killed by signal " + std::to_string(WTERMSIG(status));
    if (WIFEXITED(status))
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    return "ended";
}

ChildResult run_program(const std::vector<std::string> &argv, size_t max_output, unsigned timeout_seconds)
{
    std::vector<char *> args;
    for (const std::string &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    return fork_and_read(
        [&args](int out_fd) {
            const int null = open("/dev/null", O_RDONLY);
            if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
                _exit(127);
            execvp(args[0], args.data());
            dprintf(2, "cannot run %s: %s\n", args[0], strerror(errno));
            _exit(127);
        },
        max_output, timeout_seconds);
}

ChildResult run_in_child(const std::function<int(int out_fd)> &body, size_t max_output, unsigned timeout_seconds)
{
    return fork_and_read([&body](int out_fd) { _exit(body(out_fd)); }, max_output, timeout_seconds);
}

}  // namespace vstore_cli
