// vstore's children: programs it runs (doveconf) and checks it runs as another user. No shell
// anywhere: an argument vector, a pipe, a bound on what is read and on how long it takes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace vstore_cli {

// What a child left: its output (at most the bound asked for) and how it ended.
struct ChildResult {
    std::string output;
    bool cut = false;        // it wrote more than the bound: killed, output cut there
    bool timed_out = false;  // it ran past the deadline: killed
    int status = 0;          // waitpid() status
    int spawn_errno = 0;     // pipe() or fork() failed

    bool exited_ok() const;
    // "exit 3", "killed by signal 9", "timed out after 60 s", ... for a problem line.
    std::string how_it_ended(unsigned timeout_seconds) const;
};

// Runs argv[0] (searched in PATH, no shell) with argv, stdin from /dev/null, stdout and stderr
// into one pipe; reads at most `max_output` bytes within `timeout_seconds`.
ChildResult run_program(const std::vector<std::string> &argv, size_t max_output, unsigned timeout_seconds);

// Runs `body` in a forked child; what it writes to the descriptor it is given is read back,
// at most `max_output` bytes within `timeout_seconds`. The child ends with _exit(body()).
ChildResult run_in_child(const std::function<int(int out_fd)> &body, size_t max_output, unsigned timeout_seconds);

}  // namespace vstore_cli
