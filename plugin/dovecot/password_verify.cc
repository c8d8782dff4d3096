#include "password_verify.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <exception>
#include <iterator>
#include <optional>

#include "glue.h"

namespace glue {

namespace {

struct Pending {
    struct auth_request *r;
    verify_plain_callback_t *callback;
    PasswordCheck check;
    const char *driver;
};

// An owner's refusals are logged at most once in this many seconds.
constexpr time_t kRefusalLogInterval = 60;
// Past this many owners remembered, those not refused within the interval are forgotten.
constexpr size_t kRefusalOwnersKept = 256;

// The request's last use here: its hash wiped, its reference dropped.
void release(Pending *p)
{
    compat::wipe(p->check.hash);
    compat::request_unref(p->r);
    delete p;
}

void answer(Pending *p, enum passdb_result result)
{
    p->callback(result, p->r);
    release(p);
}

void finish(Pending *p, vstore::PasswordMatch match)
{
    enum passdb_result result = guarded(p->r, PASSDB_RESULT_INTERNAL_FAILURE, [&] {
        switch (match) {
        case vstore::PasswordMatch::Match:
            return p->check.after_match();
        case vstore::PasswordMatch::Mismatch:
            compat::log_password_mismatch(p->r);
            return PASSDB_RESULT_PASSWORD_MISMATCH;
        case vstore::PasswordMatch::Unsupported:
            break;
        }
        compat::log_error(p->r, "invalid " + p->check.scheme + " hash in the store: crypt() rejects it");
        return PASSDB_RESULT_INTERNAL_FAILURE;
    });
    answer(p, result);
}

std::string queue_full()
{
    return "password verification queue is full (" + std::to_string(vstore::VerifyPool::max_queued()) +
           " waiting): temporary failure";
}

}  // namespace

VerifyThreads::~VerifyThreads()
{
    if (flush_ != nullptr)
        compat::cancel_call(&flush_);
    for (vstore::VerifyPool::JobPtr &job : batch_) {
        compat::wipe(job->plain);
        release(static_cast<Pending *>(job->ctx));
    }
    if (io_ != nullptr)
        compat::unwatch_fd(&io_);
    if (pool_) {
        for (void *ctx : pool_->stop())
            release(static_cast<Pending *>(ctx));
    }
}

// A job the pool did not take: its queue was full, its owner's share was (or memory ran out).
void VerifyThreads::refuse(vstore::VerifyPool::Job &job) noexcept
{
    auto *p = static_cast<Pending *>(job.ctx);
    compat::wipe(job.plain);
    try {
        if (job.refused == vstore::VerifyPool::Refused::OwnerQueueShare ||
            job.refused == vstore::VerifyPool::Refused::OwnerSlowShare)
            log_owner_refusal(p->r, p->driver, job);
        else
            compat::log_error(p->r, queue_full());
    } catch (const std::exception &) {
        // out of memory for the message: the failure is still answered
    }
    answer(p, PASSDB_RESULT_INTERNAL_FAILURE);
}

void VerifyThreads::log_owner_refusal(struct auth_request *r, const char *driver, const vstore::VerifyPool::Job &job)
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
    // compat's log calls escape the owner's bytes (a domain or base user name from the store)
    compat::log_error(r, std::string(driver) + ": password verifications of owner " + job.owner +
                             (slow ? " are slow and fill its share of the verification threads"
                                   : " fill its share of the verification queue") +
                             ": temporary failure (" + std::to_string(seen.since) + " refused since " +
                             (seen.logged == 0 ? "start" : "the last report") + ")");
    seen.logged = now;
    seen.since = 0;
}

VerifyThreads::Start VerifyThreads::start(struct auth_request *r, const char *driver, PasswordCheck &check,
                                          const char *plain, verify_plain_callback_t *callback)
{
    // Only crypt hashes are worth a thread: even DES crypt (about 4 us) costs the event loop
    // more than a batched hand-over does (1.4x the logins/s of verifying DES at once in
    // bench/run_bench.py, where the auth process is the bottleneck). Clear text and
    // PLAIN-MD5 take well under a microsecond.
    if (threads_ == 0 || failed_ || compat::in_auth_worker() || !vstore::is_crypt_scheme(check.scheme))
        return Start::VerifyHere;
    try {
        if (!pool_) {
            pool_ = std::make_unique<vstore::VerifyPool>(threads_);
            io_ = compat::watch_fd(pool_->notify_fd(), on_ready, this);
            compat::log_global_info("verifying crypt password hashes on " + std::to_string(threads_) +
                                    " threads in this auth process");
        }
        if (batch_.size() >= vstore::VerifyPool::max_queued()) {
            compat::log_error(r, queue_full());
            return Start::Busy;
        }
        // Room for every job the check above lets wait: the push below never reallocates.
        batch_.reserve(vstore::VerifyPool::max_queued());
        auto pending = std::make_unique<Pending>(Pending{r, callback, {}, driver});
        auto job = std::make_unique<vstore::VerifyPool::Job>();
        job->scheme = check.scheme;
        job->hash = check.hash;
        job->owner = check.owner;
        job->work_us = check.work_us;
        job->ctx = pending.get();
        job->plain = plain;  // last: nothing below throws
        batch_.push_back(std::move(job));
        if (flush_ == nullptr)
            flush_ = compat::call_next_round(flush, this);
        // From here the job is the batch's: nothing below may fail. The result is only read
        // on this thread (on_ready), after this returns.
        pending->check = std::move(check);
        compat::request_ref(r);
        pending.release();
    } catch (const std::exception &e) {
        failed_ = true;
        compat::log_error(r, std::string("cannot start password verification threads, verifying in "
                                         "the auth process: ") + e.what());
        return Start::VerifyHere;
    }
    // Threads idle until the round ends cost the logins waiting behind them more than one
    // more wake-up does: a batch that keeps every thread busy goes at once.
    if (batch_.size() >= std::min(2 * size_t{threads_}, vstore::VerifyPool::max_queued()))
        submit_batch(false);
    return Start::Queued;
}

void VerifyThreads::flush(void *ctx)
{
    auto *self = static_cast<VerifyThreads *>(ctx);
    compat::cancel_call(&self->flush_);
    self->submit_batch(true);
}

void VerifyThreads::submit_batch(bool from_loop) noexcept
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

void VerifyThreads::on_ready(void *ctx)
{
    auto *self = static_cast<VerifyThreads *>(ctx);
    // The buffer goes back and forth with the pool, keeping its room (take_done()).
    std::vector<vstore::VerifyPool::Done> done;
    done.swap(self->done_);
    try {
        self->pool_->take_done(done);
    } catch (const std::exception &e) {
        compat::log_global_error(std::string("password verification threads: ") + e.what());
        return;
    }
    for (const vstore::VerifyPool::Done &d : done)
        finish(static_cast<Pending *>(d.ctx), d.match);
    done.clear();
    self->done_.swap(done);
}

void verify_password_then(struct auth_request *r, const char *driver, const vstore::HashCostLimits &limits,
                          VerifyThreads *threads, PasswordCheck check, const char *plain,
                          verify_plain_callback_t *callback)
{
    // One reading of the hash for the cap and for the verification threads' work figure.
    const auto too_costly = guarded(r, std::optional<std::string>("internal error"), [&] {
        if (!vstore::is_crypt_scheme(check.scheme))
            return std::optional<std::string>();
        const vstore::HashCost cost = vstore::read_hash_cost(check.hash);
        check.work_us = vstore::hash_work_us(cost, std::strlen(plain));
        return vstore::hash_cost_refusal(cost, limits);
    });
    if (too_costly) {
        compat::log_error(r, std::string(driver) + ": store fault (temporary failure): " + *too_costly);
        compat::wipe(check.hash);
        callback(PASSDB_RESULT_INTERNAL_FAILURE, r);
        return;
    }
    if (check.reply_hash)
        compat::set_password_field(r, check.hash, check.scheme.c_str());
    const VerifyThreads::Start started =
        threads == nullptr ? VerifyThreads::Start::VerifyHere : threads->start(r, driver, check, plain, callback);
    if (started == VerifyThreads::Start::Queued)
        return;
    if (started == VerifyThreads::Start::Busy) {
        compat::wipe(check.hash);
        callback(PASSDB_RESULT_INTERNAL_FAILURE, r);
        return;
    }
    enum passdb_result result = guarded(r, PASSDB_RESULT_INTERNAL_FAILURE, [&] {
        int ret = compat::password_verify(r, plain, check.hash, check.scheme);
        compat::wipe(check.hash);
        if (ret < 0)
            return PASSDB_RESULT_INTERNAL_FAILURE;
        if (ret == 0)
            return PASSDB_RESULT_PASSWORD_MISMATCH;
        return check.after_match();
    });
    callback(result, r);
}

}  // namespace glue
