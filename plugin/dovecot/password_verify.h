// Password verification on a passdb's verification threads: for crypt hashes in the auth
// process itself (blocking=no), so that one auth process uses every core. A login
// (passdb_login.h) hands itself to the pool as its job's ctx and is answered from Dovecot's
// ioloop when its job is done. A template on the Host (host.h): no Dovecot header here.
#pragma once

#include <algorithm>
#include <ctime>
#include <exception>
#include <iterator>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "verify_pool.h"

struct io;
struct timeout;

namespace glue {

template <class Host>
class PassdbLoginT;

// A passdb's verification threads, started on first use; never used in an auth worker,
// which serves one request at a time anyway.
template <class Host>
class VerifyThreadsT {
public:
    using Login = PassdbLoginT<Host>;

    explicit VerifyThreadsT(unsigned threads) : threads_(threads) {}
    ~VerifyThreadsT();  // stops the threads; logins still waiting are released unanswered
    VerifyThreadsT(const VerifyThreadsT &) = delete;
    VerifyThreadsT &operator=(const VerifyThreadsT &) = delete;

    enum class Start {
        Queued,      // the login is the threads' now: it is answered from Dovecot's ioloop
        VerifyHere,  // threads off, in a worker, not a crypt hash, or the pool failed
        Busy,        // the queue is full (logged): a temporary failure
    };
    Start start(Login *login);

private:
    static void on_ready(void *ctx);
    static void flush(void *ctx);
    void submit_batch(bool from_loop) noexcept;
    void refuse(vstore::VerifyPool::Job &job) noexcept;
    void log_owner_refusal(Login &login, const vstore::VerifyPool::Job &job);
    static std::string queue_full()
    {
        return "password verification queue is full (" + std::to_string(vstore::VerifyPool::max_queued()) +
               " waiting): temporary failure";
    }
    static void wipe(std::string &s) noexcept
    {
        if (!s.empty())
            Host::wipe(&s[0], s.size());
    }

    // An owner's refusals are logged at most once in this many seconds.
    static constexpr time_t kRefusalLogInterval = 60;
    // Past this many owners remembered, those not refused within the interval are forgotten.
    static constexpr size_t kRefusalOwnersKept = 256;

    unsigned threads_;
    std::unique_ptr<vstore::VerifyPool> pool_;
    struct io *io_ = nullptr;
    // Jobs not yet handed to the pool: they go together, once the ioloop round's callbacks
    // have run (flush_) or once there are two per thread, so that a round of logins costs
    // one lock and a wake-up or two, not one per login.
    std::vector<vstore::VerifyPool::JobPtr> batch_;
    struct timeout *flush_ = nullptr;
    // Results come through this buffer, which keeps its room between rounds (on_ready()).
    std::vector<vstore::VerifyPool::Done> done_;
    bool failed_ = false;  // the pool could not start: logged once, then verify at once
    // Owners whose logins were refused for their share: when it was last logged, and how many
    // since. One line per owner and interval, not one per login, whatever an attacker sends.
    struct Refusals {
        time_t logged = 0;
        unsigned long since = 0;
    };
    std::unordered_map<std::string, Refusals> refusals_;
};

template <class Host>
VerifyThreadsT<Host>::~VerifyThreadsT()
{
    if (flush_ != nullptr)
        Host::cancel_call(&flush_);
    for (vstore::VerifyPool::JobPtr &job : batch_) {
        wipe(job->plain);
        Login::release(static_cast<Login *>(job->ctx));
    }
    if (io_ != nullptr)
        Host::unwatch_fd(&io_);
    if (pool_) {
        for (void *ctx : pool_->stop())
            Login::release(static_cast<Login *>(ctx));
    }
}

// A job the pool did not take: its queue was full, its owner's share was (or memory ran out).
template <class Host>
void VerifyThreadsT<Host>::refuse(vstore::VerifyPool::Job &job) noexcept
{
    auto *login = static_cast<Login *>(job.ctx);
    wipe(job.plain);
    try {
        if (job.refused == vstore::VerifyPool::Refused::OwnerQueueShare ||
            job.refused == vstore::VerifyPool::Refused::OwnerSlowShare)
            log_owner_refusal(*login, job);
        else
            Host::log_error(login->request(), queue_full());
    } catch (const std::exception &) {
        // out of memory for the message: the failure is still answered
    }
    login->answer(PassResult::InternalFailure);
}

template <class Host>
void VerifyThreadsT<Host>::log_owner_refusal(Login &login, const vstore::VerifyPool::Job &job)
{
    const time_t now = time(nullptr);
    if (refusals_.size() >= kRefusalOwnersKept) {
        for (auto it = refusals_.begin(); it != refusals_.end();)
            it = now - it->second.logged >= kRefusalLogInterval ? refusals_.erase(it) : std::next(it);
    }
    Refusals &seen = refusals_[job.owner];
    seen.since++;
    if (seen.logged != 0 && now - seen.logged < kRefusalLogInterval)
        return;
    const bool slow = job.refused == vstore::VerifyPool::Refused::OwnerSlowShare;
    // the Host's log calls escape the owner's bytes (a domain or base user name from the store)
    Host::log_error(login.request(), std::string(login.driver()) + ": password verifications of owner " + job.owner +
                                         (slow ? " are slow and fill its share of the verification threads"
                                               : " fill its share of the verification queue") +
                                         ": temporary failure (" + std::to_string(seen.since) + " refused since " +
                                         (seen.logged == 0 ? "start" : "the last report") + ")");
    seen.logged = now;
    seen.since = 0;
}

template <class Host>
typename VerifyThreadsT<Host>::Start VerifyThreadsT<Host>::start(Login *login)
{
    // Only crypt hashes are worth a thread: even DES crypt (about 4 us) costs the event loop
    // more than a batched hand-over does (1.4x the logins/s of verifying DES at once in
    // bench/run_bench.py, where the auth process is the bottleneck). Clear text and
    // PLAIN-MD5 take well under a microsecond.
    if (threads_ == 0 || failed_ || Host::in_auth_worker() || !vstore::is_crypt_scheme(login->scheme()))
        return Start::VerifyHere;
    try {
        if (!pool_) {
            pool_ = std::make_unique<vstore::VerifyPool>(threads_);
            io_ = Host::watch_fd(pool_->notify_fd(), on_ready, this);
            Host::log_global_info("verifying crypt password hashes on " + std::to_string(threads_) +
                                  " threads in this auth process");
        }
        if (batch_.size() >= vstore::VerifyPool::max_queued()) {
            Host::log_error(login->request(), queue_full());
            return Start::Busy;
        }
        // Room for every job the check above lets wait: the push below never reallocates.
        batch_.reserve(vstore::VerifyPool::max_queued());
        if (flush_ == nullptr)
            flush_ = Host::call_next_round(flush, this);
        auto job = std::make_unique<vstore::VerifyPool::Job>();
        job->scheme = login->scheme();
        job->hash = login->hash();
        job->owner = login->owner();
        job->work_us = login->work_us();
        job->ctx = login;
        job->plain = login->plain();  // last: nothing below throws
        // From here the login is the batch's (the push cannot fail: the room is reserved). The
        // result is only read on this thread (on_ready), after this returns.
        batch_.push_back(std::move(job));
    } catch (const std::exception &e) {
        failed_ = true;
        Host::log_error(login->request(), std::string("cannot start password verification threads, verifying in "
                                                      "the auth process: ") +
                                              e.what());
        return Start::VerifyHere;
    }
    // Threads idle until the round ends cost the logins waiting behind them more than one
    // more wake-up does: a batch that keeps every thread busy goes at once.
    if (batch_.size() >= std::min(2 * size_t{threads_}, vstore::VerifyPool::max_queued()))
        submit_batch(false);
    return Start::Queued;
}

template <class Host>
void VerifyThreadsT<Host>::flush(void *ctx)
{
    auto *self = static_cast<VerifyThreadsT *>(ctx);
    Host::cancel_call(&self->flush_);
    self->submit_batch(true);
}

template <class Host>
void VerifyThreadsT<Host>::submit_batch(bool from_loop) noexcept
{
    if (batch_.empty())
        return;
    std::vector<vstore::VerifyPool::JobPtr> jobs;
    jobs.swap(batch_);
    pool_->submit(jobs);
    if (!from_loop) {
        // From start(): what the pool did not take waits for the end of the round (flush_
        // is set), so that no request is answered from inside another one's lookup.
        batch_.swap(jobs);
        return;
    }
    // A refused login's callback may start another verification (the next passdb), which
    // queues into batch_: the refused jobs are out of it by now.
    for (vstore::VerifyPool::JobPtr &job : jobs)
        refuse(*job);
    // keep the reserved room for the next round, unless a callback queued into a new batch_
    jobs.clear();
    if (batch_.empty())
        batch_.swap(jobs);
}

template <class Host>
void VerifyThreadsT<Host>::on_ready(void *ctx)
{
    auto *self = static_cast<VerifyThreadsT *>(ctx);
    // The buffer goes back and forth with the pool, keeping its room (take_done()).
    std::vector<vstore::VerifyPool::Done> done;
    done.swap(self->done_);
    try {
        self->pool_->take_done(done);
    } catch (const std::exception &e) {
        Host::log_global_error(std::string("password verification threads: ") + e.what());
        return;
    }
    for (const vstore::VerifyPool::Done &d : done)
        static_cast<Login *>(d.ctx)->verified(d.match);
    done.clear();
    self->done_.swap(done);
}

}  // namespace glue
