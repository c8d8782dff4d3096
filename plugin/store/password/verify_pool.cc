#include "verify_pool.h"

#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <new>
#include <system_error>

namespace vstore {

namespace {

constexpr size_t kStackSize = 512 * 1024;
// At most this many results wait for one wake-up of the event loop.
constexpr size_t kMaxBatch = 64;
// How long a thread that ran out of jobs keeps looking for more before it sleeps. Under
// load the next batch comes within that time, and a thread still looking needs no
// wake-up: a futex wake-up costs the auth process's thread about as much as a DES crypt.
// It looks with sched_yield(), which lets a runnable thread on its CPU (the auth process's
// own) go first. At most kMaxLooking threads look at once; the others sleep at once, so
// looking costs at most that many times 30 us of CPU after a batch, whatever the threads.
constexpr auto kLookFor = std::chrono::microseconds(30);
constexpr unsigned kMaxLooking = 2;
// A job that took this much of its thread's CPU time marks its owner's jobs slow for
// kMarkedFor, whatever hash_work_us() said of their hashes.
constexpr auto kMeasuredSlow = std::chrono::milliseconds(100);
constexpr auto kMarkedFor = std::chrono::seconds(60);
// Verified jobs kept for take_done() to free (past this many a thread frees its own), and
// results a thread can hand back without allocating: far more than can finish between two
// rounds of the event loop (what is queued and running).
constexpr size_t kSpentRoom = 2 * VerifyPool::max_queued();
constexpr size_t kResultRoom = 2 * VerifyPool::max_queued();
// Owners marked slow stay known while idle; past this many the expired ones are dropped.
constexpr size_t kSweepAbove = 256;

// The calling thread's CPU time so far.
std::chrono::steady_clock::duration thread_cpu_time()
{
    struct timespec ts = {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::seconds(ts.tv_sec) +
                                                                            std::chrono::nanoseconds(ts.tv_nsec));
}

void wipe(std::string &s)
{
    if (!s.empty()) {
        volatile char *p = &s[0];
        for (size_t i = 0; i < s.size(); i++)
            p[i] = 0;
    }
}

}  // namespace

VerifyPool::VerifyPool(unsigned threads) : notify_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
{
    if (!notify_)
        throw std::system_error(errno, std::generic_category(), "eventfd()");
    if (threads == 0)
        threads = 1;
    threads_.reserve(threads);
    spent_.reserve(kSpentRoom);
    spare_.reserve(kSpentRoom);
    done_.reserve(kResultRoom);
    // Threads inherit the signal mask: Dovecot's signal handlers must run on its own thread.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    // Small stacks: crypt needs a few KiB, and Dovecot limits the auth process's address
    // space (vsz_limit), which default 8 MiB stacks on many cores would exhaust.
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, kStackSize);
    int err = 0;
    for (unsigned i = 0; i < threads && err == 0; i++) {
        pthread_t t;
        err = pthread_create(&t, &attr, thread_main, this);
        if (err == 0)
            threads_.push_back(t);
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (err != 0) {
        stop();
        throw std::system_error(err, std::generic_category(), "pthread_create()");
    }
}

void *VerifyPool::thread_main(void *self)
{
    static_cast<VerifyPool *>(self)->run();
    return nullptr;
}

VerifyPool::~VerifyPool() { stop(); }

unsigned VerifyPool::owner_slow_threads() const { return std::max(1u, threads() / 2); }

unsigned VerifyPool::all_slow_threads() const { return std::max(1u, threads() - 1); }

VerifyPool::Refused VerifyPool::admit(Owner &o, const Job &job) const
{
    if (o.cheap.size() + o.slow.size() >= max_owner_queued())
        return Refused::OwnerQueueShare;
    // The first slow job always waits: one login of an owner is never refused for its cost.
    if (job.slow && !o.slow.empty() &&
        o.slow_backlog_us + job.work_us > max_slow_backlog_us() * owner_slow_threads())
        return Refused::OwnerSlowShare;
    return Refused::No;
}

size_t VerifyPool::submit(std::vector<JobPtr> &jobs)
{
    size_t taken = 0, left = 0;
    bool wake;
    {
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard<std::mutex> lock(mutex_);
        for (JobPtr &job : jobs) {
            Refused why = Refused::QueueFull;
            try {
                if (waiting_ < max_queued())
                    why = queue(job, now);
            } catch (const std::bad_alloc &) {
                // out of memory for the owner's entry: refused like a full queue
            }
            if (why == Refused::No) {
                taken++;
                continue;
            }
            job->refused = why;  // stays the caller's, in order
            if (&jobs[left] != &job)
                jobs[left] = std::move(job);
            left++;
        }
        queued_.store(waiting_, std::memory_order_relaxed);
        wake = taken > 0 && looking_ == 0;  // a thread still looking finds them
        if (owners_.size() > kSweepAbove && now - swept_ > kMarkedFor / 8)
            sweep_marked(now);
    }
    jobs.resize(left);
    if (wake)
        wake_.notify_one();
    return taken;
}

VerifyPool::Refused VerifyPool::queue(JobPtr &job, std::chrono::steady_clock::time_point now)
{
    auto [entry, added] = owners_.try_emplace(job->owner);
    Owner &o = entry->second;
    job->slow = job->work_us > slow_job_us() || now < o.measured_slow_until;
    if (job->slow)
        job->work_us = std::max(job->work_us, o.measured_us);  // the figure its backlog counts
    const Refused why = admit(o, *job);
    if (why != Refused::No) {
        if (added)
            owners_.erase(entry);
        return why;
    }
    if (!o.in_ring)
        ring_.push_back(&*entry);  // room: an owner in the ring has a job waiting
    o.in_ring = true;
    if (job->slow) {
        o.slow_backlog_us += job->work_us;
        slow_queued_++;
        o.slow.push_back(std::move(job));
    } else {
        o.cheap.push_back(std::move(job));
    }
    waiting_++;
    return Refused::No;
}

bool VerifyPool::may_run_slow(const Owner &o) const
{
    return !o.slow.empty() && o.slow_running < owner_slow_threads() && slow_running_ < all_slow_threads();
}

bool VerifyPool::has_runnable() const
{
    if (waiting_ > slow_queued_)
        return true;  // a cheap job runs on any thread
    if (slow_queued_ == 0 || slow_running_ >= all_slow_threads())
        return false;
    for (size_t i = 0; i < ring_.size(); i++) {
        if (may_run_slow(ring_.at(i)->second))
            return true;
    }
    return false;
}

void VerifyPool::Ring::erase(size_t i)
{
    static_assert(kCapacity >= max_queued(), "room for every owner with a job waiting");
    static_assert((kCapacity & (kCapacity - 1)) == 0, "a power of two: a mask, not a division");
    if (i == 0) {
        head_ = (head_ + 1) & (kCapacity - 1);
    } else {
        for (; i + 1 < size_; i++)
            slots_[(head_ + i) & (kCapacity - 1)] = slots_[(head_ + i + 1) & (kCapacity - 1)];
    }
    size_--;
}

void VerifyPool::Ring::move_to_back(size_t i)
{
    Entry *e = at(i);
    erase(i);
    push_back(e);
}

VerifyPool::JobPtr VerifyPool::take_next()
{
    // Round-robin: the first owner in turn that has a job it may run now, which then goes to
    // the back of the ring; owners whose slow jobs must wait keep their place.
    for (size_t i = 0; i < ring_.size(); i++) {
        auto *entry = ring_.at(i);
        Owner &o = entry->second;
        const bool slow_ok = !o.slow.empty() && may_run_slow(o);
        if (o.cheap.empty() && !slow_ok)
            continue;
        const bool take_slow = slow_ok && (o.cheap.empty() || o.slow_next);
        o.slow_next = !take_slow;
        std::deque<JobPtr> &from = take_slow ? o.slow : o.cheap;
        JobPtr job = std::move(from.front());
        from.pop_front();
        if (take_slow) {
            o.slow_backlog_us -= job->work_us;
            o.slow_running++;
            slow_queued_--;
            slow_running_++;
        }
        waiting_--;
        if (o.cheap.empty() && o.slow.empty()) {
            ring_.erase(i);
            o.in_ring = false;
            forget_if_idle(entry);
        } else {
            ring_.move_to_back(i);
        }
        return job;
    }
    return nullptr;
}

void VerifyPool::finished(const Job &job, std::chrono::steady_clock::time_point now,
                          std::chrono::steady_clock::duration took)
{
    auto entry = owners_.end();
    if (job.slow) {
        entry = owners_.find(job.owner);  // kept while its slow job ran
        entry->second.slow_running--;
        slow_running_--;
    }
    if (took > kMeasuredSlow) {
        try {
            if (entry == owners_.end())
                entry = owners_.try_emplace(job.owner).first;
            Owner &o = entry->second;
            o.measured_slow_until = now + kMarkedFor;
            o.measured_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count());
            make_waiting_jobs_slow(o);
        } catch (const std::bad_alloc &) {
            // not marked: its hashes' figures still apply
        }
    }
    if (entry != owners_.end())
        forget_if_idle(&*entry, now);
}

void VerifyPool::make_waiting_jobs_slow(Owner &o)
{
    // The jobs it queued before are as slow as this one: they must not hold every thread.
    while (!o.cheap.empty()) {
        Job &job = *o.cheap.front();
        o.slow.push_back(std::move(o.cheap.front()));  // may throw: then the rest stays cheap
        o.cheap.pop_front();
        job.slow = true;
        job.work_us = std::max(job.work_us, o.measured_us);
        o.slow_backlog_us += job.work_us;
        slow_queued_++;
    }
}

void VerifyPool::forget_if_idle(std::pair<const std::string, Owner> *entry, std::chrono::steady_clock::time_point now)
{
    // An idle owner is kept while there are few: an owner whose logins come one at a time
    // would otherwise build and free its queues at every login.
    const Owner &o = entry->second;
    if (owners_.size() > kSweepAbove && !o.in_ring && o.slow_running == 0 && o.measured_slow_until <= now)
        owners_.erase(entry->first);
}

void VerifyPool::sweep_marked(std::chrono::steady_clock::time_point now)
{
    swept_ = now;
    for (auto it = owners_.begin(); it != owners_.end();) {
        const Owner &o = it->second;
        if (!o.in_ring && o.slow_running == 0 && o.measured_slow_until <= now)
            it = owners_.erase(it);
        else
            ++it;
    }
}

void VerifyPool::take_done(std::vector<Done> &out)
{
    out.clear();
    // out becomes done_, the threads' room for the next results: allocated here, where an
    // allocation may fail, and not on a thread. Before the eventfd is read: if it throws,
    // the eventfd stays readable and the event loop comes back for the results.
    if (out.capacity() < kResultRoom)
        out.reserve(kResultRoom);
    uint64_t count;
    while (read(notify_.get(), &count, sizeof(count)) < 0 && errno == EINTR) {
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        out.swap(done_);
        spent_.swap(spare_);
        signalled_ = false;
    }
    spare_.clear();  // here, outside the lock: frees the jobs on the thread that made them
}

std::vector<VerifyPool::Done> VerifyPool::take_done()
{
    std::vector<Done> out;
    take_done(out);
    return out;
}

std::vector<void *> VerifyPool::stop()
{
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (pthread_t t : threads_)
        pthread_join(t, nullptr);
    threads_.clear();
    std::vector<void *> left;
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto &[name, o] : owners_) {
        for (std::deque<JobPtr> *queue : {&o.cheap, &o.slow}) {
            for (JobPtr &job : *queue) {
                wipe(job->plain);
                left.push_back(job->ctx);
            }
        }
    }
    owners_.clear();
    ring_.clear();
    waiting_ = slow_queued_ = 0;
    for (const Done &d : done_)
        left.push_back(d.ctx);
    done_.clear();
    return left;
}

bool VerifyPool::hand_back(JobPtr &job, PasswordMatch match, Clock::time_point now, Clock::duration took)
{
    finished(*job, now, took);
    done_.push_back(Done{job->ctx, match});
    // Each wake-up of the event loop costs context switches on cores that should be hashing,
    // so results are handed back in batches as large as the queue of cheap jobs: a result
    // waits at most as long as the cheap jobs still queued behind it wait anyway, and at once
    // when none is left (a lone login is not delayed, nor one behind another owner's slow
    // jobs). A slow job's result goes at once.
    const bool signal = !signalled_ && (job->slow || done_.size() >= std::min(kMaxBatch, waiting_ - slow_queued_));
    signalled_ = signalled_ || signal;
    if (spent_.size() < spent_.capacity())
        spent_.push_back(std::move(job));  // never reallocates: never throws
    job.reset();
    return signal;
}

void VerifyPool::signal_done() const
{
    const uint64_t one = 1;
    while (write(notify_.get(), &one, sizeof(one)) < 0 && errno == EINTR) {
    }
}

void VerifyPool::run()
{
    // A thread hands back the job it verified and takes the next under one lock: with cheap
    // hashes (DES: a few us) the mutex is what the threads and the submitter meet at.
    JobPtr job;
    PasswordMatch match = PasswordMatch::Mismatch;
    Clock::time_point now{};
    Clock::duration took{};
    for (;;) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (job && hand_back(job, match, now, took)) {
            lock.unlock();
            signal_done();
            lock.lock();
        }
        if (!has_runnable() && !stopping_ && looking_ < kMaxLooking) {
            looking_++;
            lock.unlock();
            const auto until = Clock::now() + kLookFor;
            while (queued() == 0 && Clock::now() < until)
                sched_yield();
            lock.lock();
            looking_--;
        }
        wake_.wait(lock, [this] { return stopping_ || has_runnable(); });
        if (stopping_)
            return;
        job = take_next();
        queued_.store(waiting_, std::memory_order_relaxed);
        const bool more = looking_ == 0 && has_runnable();
        lock.unlock();
        // The submitter woke one thread for the whole batch: pass the wake-up on.
        if (more)
            wake_.notify_one();
        // The hash's cost is the CPU time this thread spent on it, not the time it took: a
        // thread descheduled on a busy machine must not mark an honest owner slow. A job whose
        // figure is a twentieth of that mark or less is not measured (two system calls, as
        // much as a DES hash): its figure, password length included, is not that far off.
        const bool measure = job->work_us * 20 >= static_cast<uint64_t>(
                                                      std::chrono::duration_cast<std::chrono::microseconds>(kMeasuredSlow).count());
        const auto started = measure ? thread_cpu_time() : Clock::duration{};
        match = verify_password(job->scheme, job->hash, job->plain);
        took = measure ? thread_cpu_time() - started : Clock::duration{};
        now = measure ? Clock::now() : Clock::time_point{};  // for a marked owner: measured jobs only
        wipe(job->plain);
    }
}

}  // namespace vstore
