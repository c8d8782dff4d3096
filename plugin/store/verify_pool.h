// Password verification on threads, for a passdb that runs in Dovecot's single-threaded auth
// process (blocking=no): crypt hashes (DES, MD5-, SHA-256-, SHA-512-, bcrypt-crypt) are
// verified on `threads` threads while the process goes on with other requests. Finished
// verifications are collected from notify_fd(), an eventfd the caller's event loop watches.
// No Dovecot code runs on these threads: they call crypt_rn() and nothing else.
#pragma once

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "file_util.h"
#include "password_check.h"

namespace vstore {

class VerifyPool {
public:
    struct Job {
        std::string scheme, hash, plain;
        void *ctx = nullptr;  // the caller's; handed back with the result
    };
    // Jobs move between threads by pointer: a password is never copied by a move and left
    // behind in a moved-from string (a short one lives inside the string object).
    using JobPtr = std::unique_ptr<Job>;
    struct Done {
        void *ctx;
        PasswordMatch match;
    };

    // Starts the threads (signals blocked on them). Throws std::system_error on failure.
    explicit VerifyPool(unsigned threads);
    // Stops and joins the threads; the contexts of unfinished or untaken jobs are lost: call
    // stop() first to get them back.
    ~VerifyPool();
    VerifyPool(const VerifyPool &) = delete;
    VerifyPool &operator=(const VerifyPool &) = delete;

    // Queues jobs from the front of `jobs` while fewer than max_queued() wait, removes them
    // from `jobs` and returns how many it took. One call wakes at most one sleeping thread,
    // and a thread that takes a job wakes the next while jobs remain: the caller pays one
    // wake-up per batch, not one per job, and none while a thread is still looking for work.
    size_t submit(std::vector<JobPtr> &jobs);
    // A bound on the jobs waiting, so that a burst of costly logins costs memory and
    // latency only up to a point: past it a login is a temporary failure.
    static constexpr size_t max_queued() { return 1024; }
    int notify_fd() const { return notify_.get(); }
    // The verifications finished since the last call (clears notify_fd()'s readiness).
    std::vector<Done> take_done();
    // Stops the threads; returns the contexts of every job not handed back by take_done().
    std::vector<void *> stop();
    unsigned threads() const { return static_cast<unsigned>(threads_.size()); }

private:
    void run();
    static void *thread_main(void *self);

    UniqueFd notify_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<JobPtr> queue_;
    std::vector<Done> done_;
    bool stopping_ = false;
    unsigned looking_ = 0;            // threads out of jobs, not yet asleep: no wake-up needed
    std::atomic<size_t> queued_{0};   // queue_.size(), for them to look at without the lock
    bool signalled_ = false;  // notify_fd() is readable and take_done() has not run since
    std::vector<pthread_t> threads_;
};

}  // namespace vstore
