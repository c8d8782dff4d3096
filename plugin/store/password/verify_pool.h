// Password verification on threads, for a passdb that runs in Dovecot's single-threaded auth
// process (blocking=no): crypt hashes (DES, MD5-, SHA-256-, SHA-512-, bcrypt-crypt) are
// verified on `threads` threads while the process goes on with other requests. Finished
// verifications are collected from notify_fd(), an eventfd the caller's event loop watches.
// No Dovecot code runs on these threads: they call crypt_rn() and nothing else.
//
// The hashes are written by store owners ("owners": a vpopmail domain, a vmailmgr base user),
// so one owner's hashes must not delay another owner's logins. The pool keeps a queue per
// owner and serves the owners round-robin, so that no owner's burst puts the others at the
// back of a long queue; a slow job (a hash that asks for more than slow_job_us() of work,
// by its settings or as measured) runs only on a share of the threads: at most half of them
// per owner, and never the last one, so that a cheap hash always finds a thread within one
// cheap job's time. What an owner queues is bounded too (half the queue, and for slow jobs
// what its share of the threads verifies within a few seconds): past that its jobs are
// refused, a temporary failure for that owner only. Cheap jobs of a single owner use every
// thread, as before.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "file_util.h"
#include "password_check.h"

namespace vstore {

class VerifyPool {
public:
    // Why submit() left a job to its caller.
    enum class Refused {
        No,
        QueueFull,        // max_queued() jobs wait, from every owner
        OwnerQueueShare,  // its owner has max_owner_queued() jobs waiting
        OwnerSlowShare,   // its owner's slow jobs waiting would take its threads too long
    };
    struct Job {
        std::string scheme, hash, plain;
        void *ctx = nullptr;  // the caller's; handed back with the result
        // Whose store wrote the hash: queues, shares and round-robin are per owner.
        std::string owner;
        // hash_work_us(hash): the verification's rough CPU time, read from the hash's settings.
        uint64_t work_us = 0;
        Refused refused = Refused::No;  // set by submit() on a job it left
        bool slow = false;              // the pool's: taken as a slow job
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

    // Queues every job of `jobs` its owner's shares and the queue's bound let wait, removes
    // them from `jobs` and returns how many it took; the jobs left stay in their order, each
    // with its reason in `refused`. One call wakes at most one sleeping thread, and a thread
    // that takes a job wakes the next while jobs remain: the caller pays one wake-up per
    // batch, not one per job, and none while a thread is still looking for work.
    size_t submit(std::vector<JobPtr> &jobs);
    // A bound on the jobs waiting, so that a burst of costly logins costs memory and
    // latency only up to a point: past it a login is a temporary failure.
    static constexpr size_t max_queued() { return 1024; }
    // One owner's bound: the other half of the queue stays for the others.
    static constexpr size_t max_owner_queued() { return max_queued() / 2; }
    // A job above this much work is slow: it runs only on its owner's share of the threads.
    // Cheap schemes (DES, MD5-crypt, SHA-512-crypt at 5000 rounds: 1.5 ms) are far below.
    static constexpr uint64_t slow_job_us() { return 20000; }
    // What one owner's slow jobs may queue: as many as its share of the threads verifies in
    // this time (at least one); the rest is refused, so that its logins wait no longer either.
    static constexpr uint64_t max_slow_backlog_us() { return 8000000; }
    // How many threads one owner's slow jobs may hold at once (half, at least one), and all
    // owners' slow jobs together (all but one, so that a cheap job always finds one).
    unsigned owner_slow_threads() const;
    unsigned all_slow_threads() const;
    int notify_fd() const { return notify_.get(); }
    // The verifications finished since the last call (clears notify_fd()'s readiness).
    // into out (cleared first). out's room goes to the threads for the next results, so that
    // they need not allocate: pass the same vector each time. Call from one thread only.
    void take_done(std::vector<Done> &out);
    std::vector<Done> take_done();  // the same into a new vector (tests)
    // Stops the threads; returns the contexts of every job not handed back by take_done().
    std::vector<void *> stop();
    unsigned threads() const { return static_cast<unsigned>(threads_.size()); }

private:
    // One owner's jobs waiting, and its slow jobs running.
    struct Owner {
        std::deque<JobPtr> cheap, slow;
        unsigned slow_running = 0;
        uint64_t slow_backlog_us = 0;  // the work of `slow`
        uint64_t measured_us = 0;      // the last time one of its jobs took over kMeasuredSlow
        // Until when its jobs count as slow whatever their hash says: one of them took longer
        // than kMeasuredSlow (a form hash_work_us() misjudges).
        std::chrono::steady_clock::time_point measured_slow_until{};
        bool in_ring = false;
        bool slow_next = false;  // alternates its cheap and slow jobs
    };

    void run();
    static void *thread_main(void *self);
    using Entry = std::pair<const std::string, Owner>;
    using Clock = std::chrono::steady_clock;
    // Queues a job into its owner's queue, or says why not (job is then left as it was).
    Refused queue(JobPtr &job, Clock::time_point now);
    Refused admit(Owner &o, const Job &job) const;
    bool may_run_slow(const Owner &o) const;
    // Whether a waiting job may run now (cheap, or slow within the shares).
    bool has_runnable() const;
    JobPtr take_next();
    // A job's bookkeeping once verified: its owner's share back, and its time measured.
    void finished(const Job &job, Clock::time_point now, Clock::duration took);
    void make_waiting_jobs_slow(Owner &o);
    // A verified job's result into done_ (its job kept for take_done() to free); whether the
    // event loop must be signalled now.
    bool hand_back(JobPtr &job, PasswordMatch match, Clock::time_point now, Clock::duration took);
    void signal_done() const;
    void forget_if_idle(Entry *entry, Clock::time_point now = Clock::time_point{});
    void sweep_marked(Clock::time_point now);
    size_t queued() const { return queued_.load(std::memory_order_relaxed); }

    // The owners with jobs waiting, in turn order: a circular buffer allocated once, as large
    // as the queue (an owner in it has a job waiting). Taking the first owner's job and
    // sending it to the back is O(1), and nothing in it allocates under the lock.
    class Ring {
    public:
        static constexpr size_t kCapacity = 1024;  // max_queued() (checked in verify_pool.cc)
        size_t size() const { return size_; }
        Entry *at(size_t i) const { return slots_[(head_ + i) & (kCapacity - 1)]; }
        void push_back(Entry *e) { slots_[(head_ + size_++) & (kCapacity - 1)] = e; }  // size() < kCapacity
        void erase(size_t i);         // the others keep their order
        void move_to_back(size_t i);  // the others keep their order
        void clear() { head_ = size_ = 0; }

    private:
        std::vector<Entry *> slots_ = std::vector<Entry *>(kCapacity);
        size_t head_ = 0, size_ = 0;
    };

    UniqueFd notify_;
    std::mutex mutex_;
    std::condition_variable wake_;
    // Owners with jobs waiting (or marked slow, or with slow jobs running); an Owner stays at
    // its address while in the map, and ring_ holds those with jobs waiting, in turn order.
    std::unordered_map<std::string, Owner> owners_;
    Ring ring_;
    std::chrono::steady_clock::time_point swept_{};
    size_t waiting_ = 0;      // jobs in every owner's queues
    size_t slow_queued_ = 0;  // of which slow
    unsigned slow_running_ = 0;
    std::vector<Done> done_;
    // Verified jobs, freed by take_done() on the thread that allocated them: a job freed on a
    // verification thread goes back to the submitter's malloc arena under its lock (a Job is
    // past malloc's lock-free fast bins), which cost a DES login 15% of the pool's CPU.
    // spent_ and spare_ are swapped, both with room for every job that can be in flight.
    std::vector<JobPtr> spent_, spare_;
    bool stopping_ = false;
    unsigned looking_ = 0;            // threads out of jobs, not yet asleep: no wake-up needed
    std::atomic<size_t> queued_{0};   // jobs waiting, for them to look at without the lock
    bool signalled_ = false;  // notify_fd() is readable and take_done() has not run since
    std::vector<pthread_t> threads_;
};

}  // namespace vstore
