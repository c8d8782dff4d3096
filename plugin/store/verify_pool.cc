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

size_t VerifyPool::submit(std::vector<JobPtr> &jobs)
{
    size_t taken = 0;
    bool wake;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        try {
            for (; taken < jobs.size() && queue_.size() < max_queued(); taken++)
                queue_.push_back(std::move(jobs[taken]));
        } catch (const std::bad_alloc &) {
            // out of memory: the rest is refused like a full queue
        }
        queued_.store(queue_.size(), std::memory_order_relaxed);
        wake = taken > 0 && looking_ == 0;  // a thread still looking finds them
    }
    jobs.erase(jobs.begin(), jobs.begin() + static_cast<std::ptrdiff_t>(taken));
    if (wake)
        wake_.notify_one();
    return taken;
}

std::vector<VerifyPool::Done> VerifyPool::take_done()
{
    uint64_t count;
    while (read(notify_.get(), &count, sizeof(count)) < 0 && errno == EINTR) {
    }
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Done> out;
    out.swap(done_);
    signalled_ = false;
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
    for (JobPtr &job : queue_) {
        wipe(job->plain);
        left.push_back(job->ctx);
    }
    queue_.clear();
    for (const Done &d : done_)
        left.push_back(d.ctx);
    done_.clear();
    return left;
}

void VerifyPool::run()
{
    for (;;) {
        JobPtr job;
        bool more;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (queue_.empty() && !stopping_ && looking_ < kMaxLooking) {
                looking_++;
                lock.unlock();
                const auto until = std::chrono::steady_clock::now() + kLookFor;
                while (queued_.load(std::memory_order_relaxed) == 0 && std::chrono::steady_clock::now() < until)
                    sched_yield();
                lock.lock();
                looking_--;
            }
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_)
                return;
            job = std::move(queue_.front());
            queue_.pop_front();
            queued_.store(queue_.size(), std::memory_order_relaxed);
            more = !queue_.empty() && looking_ == 0;
        }
        // The submitter woke one thread for the whole batch: pass the wake-up on.
        if (more)
            wake_.notify_one();
        PasswordMatch match = verify_password(job->scheme, job->hash, job->plain);
        wipe(job->plain);
        bool signal;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            done_.push_back(Done{job->ctx, match});
            // Each wake-up of the event loop costs context switches on cores that should be
            // hashing, so results are handed back in batches as large as the queue: a result
            // waits at most as long as the jobs still queued behind it wait anyway, and at
            // once when nothing is left to verify (a lone login is not delayed).
            signal = !signalled_ && done_.size() >= std::min(kMaxBatch, queue_.size());
            signalled_ = signalled_ || signal;
        }
        if (signal) {
            const uint64_t one = 1;
            while (write(notify_.get(), &one, sizeof(one)) < 0 && errno == EINTR) {
            }
        }
    }
}

}  // namespace vstore
