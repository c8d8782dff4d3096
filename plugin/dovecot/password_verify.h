// Password verification for the passdbs' verify_plain: at once with Dovecot's own schemes, or,
// for crypt hashes in the auth process itself (blocking=no), on the passdb's
// verification threads, so that one auth process uses every core.
#pragma once

#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dovecot_api.h"
#include "hash_cost.h"
#include "verify_pool.h"

namespace glue {

// What a login's password is checked against, and what the passdb does once it matched
// (service flags, user field, lastauth): its result is the reply.
struct PasswordCheck {
    std::string scheme, hash;
    // Whether the hash goes into the reply's password field (for the auth cache); not for
    // a clear password checked in its place.
    bool reply_hash = true;
    std::function<enum passdb_result()> after_match;
    // Whose store wrote the hash (vpopmail: the domain, vmailmgr: the base user): the
    // verification threads share their time and queue between owners.
    std::string owner;
    // hash_work_us() of the hash and the password, from the same reading as the cost cap.
    uint64_t work_us = 0;
};

// A passdb's verification threads, started on first use; never used in an auth worker,
// which serves one request at a time anyway.
class VerifyThreads {
public:
    explicit VerifyThreads(unsigned threads) : threads_(threads) {}
    ~VerifyThreads();  // stops the threads; requests still waiting are released unanswered
    VerifyThreads(const VerifyThreads &) = delete;
    VerifyThreads &operator=(const VerifyThreads &) = delete;

    enum class Start {
        Queued,      // the callback comes later, from Dovecot's ioloop
        VerifyHere,  // threads off, in a worker, not a crypt hash, or the pool failed
        Busy,        // the queue is full: a temporary failure
    };
    Start start(struct auth_request *r, const char *driver, PasswordCheck &check, const char *plain,
                verify_plain_callback_t *callback);

private:
    static void on_ready(void *ctx);
    static void flush(void *ctx);
    void submit_batch(bool from_loop) noexcept;
    void refuse(vstore::VerifyPool::Job &job) noexcept;
    void log_owner_refusal(struct auth_request *r, const char *driver, const vstore::VerifyPool::Job &job);

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

// Verifies plain against check (on threads when they take it), then calls callback with
// check.after_match() on a match, or with the mismatch or failure. A hash that asks for more
// work than `limits` allow is a store fault (temporary failure), refused before hashing.
void verify_password_then(struct auth_request *r, const char *driver, const vstore::HashCostLimits &limits,
                          VerifyThreads *threads, PasswordCheck check, const char *plain,
                          verify_plain_callback_t *callback);

}  // namespace glue
