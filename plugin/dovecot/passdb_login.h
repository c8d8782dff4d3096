// One passdb login, from Dovecot's call to its answer, as Dovecot's own passdb-sql.c keeps a
// struct passdb_sql_request: the auth request (one reference taken at the start, dropped at
// the end), the driver, Dovecot's callback, the password (wiped when the login ends) and the
// store's decision. Both drivers enter the same way: a driver's login asks its store (ask());
// the store answers through one continuation, decide(), at once (vmailmgr, vpopmail's cdb
// store) or later from Dovecot's ioloop (vpopmail's SQL backend). The login answers Dovecot
// exactly once and then deletes itself.
//
// The order of checks, for verify_plain (decided(), then verify_here() or, on the
// verification threads, verified(), then after_match()):
//   1. the store's notes logged; the refusal decided before the password (unknown user,
//      disabled account, store fault) logged and answered;
//   2. an empty password refused;
//   3. the hash cost cap: a hash that asks for more work than allowed is a store fault (a
//      temporary failure), refused before anything is hashed;
//   4. the stored hash as the reply's password field, for Dovecot's auth cache;
//   5. the password verified, at once or on the verification threads;
//   6. after a match only (so that a wrong password never learns whether the account is
//      restricted: vchkpw's order): the after-match refusal, the user field, the on-login
//      hook (vpopmail: lastauth), the passdb's fields;
//   7. the answer.
// lookup_credentials (Dovecot checks the response itself): 1, then the after-match refusal,
// the user field and the passdb's fields, then the credentials handed over.
//
// A template on the Host (host.h) for the unit tests; DovecotHost's is glue::PassdbLogin.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "hash_cost.h"
#include "host.h"
#include "login.h"
#include "password_check.h"
#include "password_verify.h"

namespace glue {

// A store's decision on a login, and the store owner the account belongs to (vpopmail: its
// domain, vmailmgr: its base user), for the verification threads' shares; empty when the
// lookup failed before finding it.
struct Decided {
    vstore::LoginDecision decision;
    std::string owner;
};

template <class Host>
class PassdbLoginT {
public:
    using Request = typename Host::Request;
    using Threads = VerifyThreadsT<Host>;

    // Dovecot's entry points: the login of driver class L (a PassdbLoginT with ask()) is made
    // and asks its store. Never throws: a login that cannot be made is an internal failure.
    template <class L>
    static void verify_plain(Request *r, const char *driver, typename Host::VerifyCallback callback,
                             const char *password, const vstore::HashCostLimits &limits, Threads *threads) noexcept
    {
        L *login = guarded_by<Host>(r, static_cast<L *>(nullptr),
                                    [&] { return new L(r, driver, callback, password, limits, threads); });
        if (login == nullptr)
            Host::answer_plain(callback, PassResult::InternalFailure, r);
        else
            static_cast<PassdbLoginT *>(login)->ask_store();
    }
    template <class L>
    static void lookup_credentials(Request *r, const char *driver,
                                   typename Host::CredentialsCallback callback) noexcept
    {
        L *login = guarded_by<Host>(r, static_cast<L *>(nullptr), [&] { return new L(r, driver, callback); });
        if (login == nullptr)
            Host::answer_credentials(callback, PassResult::InternalFailure, std::string(), std::string(), r);
        else
            static_cast<PassdbLoginT *>(login)->ask_store();
    }

    PassdbLoginT(Request *r, const char *driver, typename Host::VerifyCallback callback, const char *password,
                 const vstore::HashCostLimits &limits, Threads *threads)
        : r_(r), driver_(driver), use_(vstore::PasswordUse::Plain), plain_(password), limits_(&limits),
          threads_(threads)
    {
        callback_.plain = callback;
        Host::request_ref(r_);  // last: a constructor that throws has taken nothing
    }
    PassdbLoginT(Request *r, const char *driver, typename Host::CredentialsCallback callback)
        : r_(r), driver_(driver), use_(vstore::PasswordUse::Credentials)
    {
        callback_.credentials = callback;
        Host::request_ref(r_);
    }
    virtual ~PassdbLoginT() { Host::request_unref(r_); }
    PassdbLoginT(const PassdbLoginT &) = delete;
    PassdbLoginT &operator=(const PassdbLoginT &) = delete;

    Request *request() const { return r_; }
    const char *driver() const { return driver_; }
    vstore::PasswordUse use() const { return use_; }

protected:
    // Asks the driver's store, which answers through decide(), at once or later. A throw is
    // an internal failure: it must come before the store has called or kept the continuation.
    virtual void ask() = 0;
    // After a match, before the answer (vpopmail: lastauth); never fails the login.
    virtual void on_login() {}

    // The continuation: the store's decision, made by decide_fn() (a throw is an internal
    // failure); the login goes on to its answer, and may be gone when this returns.
    template <class DecideFn>
    void decide(DecideFn &&decide_fn) noexcept
    {
        Decided d;
        if (!guarded_by<Host>(r_, false, [&] {
                d = decide_fn();
                return true;
            }))
            return answer(PassResult::InternalFailure);
        decided(std::move(d));
    }

private:
    friend class VerifyThreadsT<Host>;

    void ask_store() noexcept
    {
        Request *r = r_;
        if (!guarded_by<Host>(r, false, [this] {
                ask();
                return true;
            }))
            answer(PassResult::InternalFailure);
    }

    // The order of checks, top to bottom (see the top of this file).
    void decided(Decided d) noexcept
    {
        const PassResult before = guarded_by<Host>(r_, PassResult::InternalFailure, [&] { return take(d); });
        if (before != PassResult::Ok)
            return answer(before);
        if (use_ == vstore::PasswordUse::Credentials)
            return answer(guarded_by<Host>(r_, PassResult::InternalFailure, [&] { return after_match(); }));
        if (!within_cost_cap())
            return answer(PassResult::InternalFailure);
        if (reply_hash_)
            Host::set_password_field(r_, hash_.str(), scheme_.c_str());
        switch (threads_ == nullptr ? Threads::Start::VerifyHere : threads_->start(this)) {
        case Threads::Start::Queued:
            // the job holds its own copies: the login's go now, not when the answer comes
            plain_.wipe();
            hash_.wipe();
            return;  // verified() comes from the ioloop
        case Threads::Start::Busy:
            return answer(PassResult::InternalFailure);
        case Threads::Start::VerifyHere:
            break;
        }
        verify_here();
    }

    // Steps 1 and 2: the decision logged and kept; what it refuses before the password.
    PassResult take(Decided &d)
    {
        vstore::LoginDecision &decision = d.decision;
        hash_ = Secret<Host>(std::move(decision.password.hash));
        log_notes_by<Host>(r_, driver_, decision.notes);
        if (use_ == vstore::PasswordUse::Credentials && decision.before.is_ok()) {
            // Dovecot checks the response: what a match would be told is told now.
            log_outcome_by<Host>(r_, driver_, decision.after_match);
            if (!decision.after_match.is_ok())
                return to_pass_result(decision.after_match.verdict);
        } else {
            log_outcome_by<Host>(r_, driver_, decision.before);
            if (!decision.before.is_ok())
                return to_pass_result(decision.before.verdict);
        }
        if (use_ == vstore::PasswordUse::Plain) {
            if (auto why = vstore::empty_password_refusal(plain_.view())) {
                Host::log_info(r_, std::string(driver_) + ": login refused: " + *why);
                return PassResult::PasswordMismatch;
            }
        }
        scheme_ = std::move(decision.password.scheme);
        reply_hash_ = decision.password.reply_hash;
        user_ = std::move(decision.user);
        owner_ = std::move(d.owner);
        after_ = std::move(decision.after_match);
        return PassResult::Ok;
    }

    // Step 3: one reading of the hash for the cap and for the verification threads' figure.
    bool within_cost_cap() noexcept
    {
        const auto too_costly = guarded_by<Host>(r_, std::optional<std::string>("internal error"), [&] {
            if (!vstore::is_crypt_scheme(scheme_))
                return std::optional<std::string>();
            const vstore::HashCost cost = vstore::read_hash_cost(hash_.str());
            work_us_ = vstore::hash_work_us(cost, plain_.size());
            return vstore::hash_cost_refusal(cost, *limits_);
        });
        if (!too_costly)
            return true;
        guarded_by<Host>(r_, false, [&] {
            Host::log_error(r_, std::string(driver_) + ": store fault (temporary failure): " + *too_costly);
            return true;
        });
        return false;
    }

    // Step 5, at once.
    void verify_here() noexcept
    {
        answer(guarded_by<Host>(r_, PassResult::InternalFailure, [&] {
            const int ret = Host::password_verify(r_, plain_.c_str(), hash_.str(), scheme_);
            hash_.wipe();
            if (ret < 0)
                return PassResult::InternalFailure;
            if (ret == 0)
                return PassResult::PasswordMismatch;
            return after_match();
        }));
    }

    // Step 5, from the verification threads (Dovecot's ioloop).
    void verified(vstore::PasswordMatch match) noexcept
    {
        answer(guarded_by<Host>(r_, PassResult::InternalFailure, [&] {
            switch (match) {
            case vstore::PasswordMatch::Match:
                return after_match();
            case vstore::PasswordMatch::Mismatch:
                Host::log_password_mismatch(r_);
                return PassResult::PasswordMismatch;
            case vstore::PasswordMatch::Unsupported:
                break;
            }
            Host::log_error(r_, "invalid " + scheme_ + " hash in the store: crypt() rejects it");
            return PassResult::InternalFailure;
        }));
    }

    // Step 6: only after a match (lookup_credentials: after step 1, its refusal told there).
    PassResult after_match()
    {
        if (use_ == vstore::PasswordUse::Plain) {
            log_outcome_by<Host>(r_, driver_, after_);
            if (!after_.is_ok())
                return to_pass_result(after_.verdict);
        }
        Host::set_field(r_, "user", user_);
        if (use_ == vstore::PasswordUse::Plain)
            on_login();
        return Host::apply_passdb_fields(r_) ? PassResult::Ok : PassResult::InternalFailure;
    }

    // Step 7: Dovecot's callback, once; then the login ends (its reference dropped, its
    // secrets wiped).
    void answer(PassResult result) noexcept
    {
        if (use_ == vstore::PasswordUse::Plain)
            Host::answer_plain(callback_.plain, result, r_);
        else
            Host::answer_credentials(callback_.credentials, result, hash_.str(), scheme_, r_);
        delete this;
    }

    // A login the verification threads still held when they stopped: released unanswered.
    static void release(PassdbLoginT *login) noexcept { delete login; }

    // for the verification threads
    const std::string &scheme() const { return scheme_; }
    const std::string &hash() const { return hash_.str(); }
    const std::string &owner() const { return owner_; }
    std::string_view plain() const { return plain_.view(); }
    uint64_t work_us() const { return work_us_; }

    Request *const r_;
    const char *const driver_;
    const vstore::PasswordUse use_;
    union {
        typename Host::VerifyCallback plain;
        typename Host::CredentialsCallback credentials;
    } callback_;
    // verify_plain's password (short ones inside the login: no allocation)
    InlineSecret<Host, 128> plain_{nullptr};
    const vstore::HashCostLimits *limits_ = nullptr;
    Threads *threads_ = nullptr;
    // the store's decision, once taken
    Secret<Host> hash_;
    std::string scheme_, user_, owner_;
    bool reply_hash_ = true;
    vstore::Outcome after_;
    uint64_t work_us_ = 0;  // hash_work_us() of the hash and the password
};

}  // namespace glue
