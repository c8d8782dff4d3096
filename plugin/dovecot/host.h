// The seam between the login sequencing and Dovecot. The request objects (passdb_login.h) and
// the verification threads (verify_threads.h) are templates on a Host that makes the few
// Dovecot calls they need; DovecotHost (dovecot_host.h) makes them with compat::, the unit
// tests' fake records them. No Dovecot header here.
//
// A Host has, all static:
//   types     Request (struct auth_request), VerifyCallback, CredentialsCallback
//   logging   log_debug, log_info, log_error (Request *, const std::string &), log_unknown_user,
//             log_password_mismatch (Request *), log_global_info, log_global_error (string)
//   reply     set_field (Request *, const char *, const std::string &),
//             set_password_field (Request *, const std::string &hash, const char *scheme),
//             apply_passdb_fields (Request *) -> bool,
//             answer_plain (VerifyCallback, PassResult, Request *),
//             answer_credentials (CredentialsCallback, PassResult, hash, scheme, Request *)
//   password  password_verify (Request *, const char *plain, hash, scheme) -> 1, 0 or -1
//   lifetime  request_ref, request_unref (Request *); wipe (char *, size_t)
//   threads   in_auth_worker () -> bool, watch_fd (fd, cb, ctx) -> struct io *,
//             unwatch_fd (struct io **), call_next_round (cb, ctx) -> struct timeout *,
//             cancel_call (struct timeout **)
#pragma once

#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "outcome.h"

namespace glue {

// A passdb's answer, mapped to Dovecot's enum passdb_result by the Host.
enum class PassResult { Ok, PasswordMismatch, UserUnknown, UserDisabled, InternalFailure };

inline PassResult to_pass_result(vstore::Verdict v)
{
    using vstore::Verdict;
    switch (v) {
    case Verdict::Ok: return PassResult::Ok;
    case Verdict::InvalidLogin:
    case Verdict::UserUnknown: return PassResult::UserUnknown;
    case Verdict::Disabled: return PassResult::UserDisabled;
    case Verdict::StoreFault: return PassResult::InternalFailure;
    }
    return PassResult::InternalFailure;
}

// A password or a stored hash: wiped when it goes (its whole buffer: a short string lives
// inside the object), and when it is moved from. Never copied.
template <class Host>
class Secret {
public:
    Secret() = default;
    explicit Secret(const char *s) : s_(s == nullptr ? "" : s) {}
    explicit Secret(std::string &&s) noexcept : s_(std::move(s)) { wipe_buffer(s); }
    Secret(Secret &&o) noexcept : s_(std::move(o.s_)) { wipe_buffer(o.s_); }
    Secret &operator=(Secret &&o) noexcept
    {
        if (this != &o) {
            wipe();
            s_ = std::move(o.s_);
            wipe_buffer(o.s_);
        }
        return *this;
    }
    Secret(const Secret &) = delete;
    Secret &operator=(const Secret &) = delete;
    ~Secret() { wipe_buffer(s_); }

    const std::string &str() const { return s_; }
    const char *c_str() const { return s_.c_str(); }
    bool empty() const { return s_.empty(); }
    size_t size() const { return s_.size(); }
    void wipe() noexcept
    {
        wipe_buffer(s_);
        s_.clear();
    }

private:
    static void wipe_buffer(std::string &s) noexcept { Host::wipe(s.data(), s.capacity()); }
    std::string s_;
};

// A client's password: inside the object when it is shorter than N bytes (a login then
// allocates nothing for it), else on the heap; wiped when it goes. Neither copied nor moved.
template <class Host, size_t N>
class InlineSecret {
public:
    explicit InlineSecret(const char *s) : size_(s == nullptr ? 0 : std::strlen(s))
    {
        if (size_ < N)
            std::memcpy(buf_, s == nullptr ? "" : s, size_ + 1);
        else
            heap_ = Secret<Host>(s);
    }
    ~InlineSecret() { Host::wipe(buf_, N); }  // heap_ wipes itself
    InlineSecret(const InlineSecret &) = delete;
    InlineSecret &operator=(const InlineSecret &) = delete;

    const char *c_str() const { return size_ < N ? buf_ : heap_.c_str(); }
    std::string_view view() const { return {c_str(), size_}; }
    size_t size() const { return size_; }
    // Wiped now: empty from here on.
    void wipe() noexcept
    {
        Host::wipe(buf_, N);
        heap_.wipe();
        size_ = 0;
    }

private:
    size_t size_;
    char buf_[N] = {};
    Secret<Host> heap_;
};

// Runs body(); any exception is logged against the request and turned into fallback.
// Callbacks into Dovecot must be made *after* this returns, never from inside body.
template <class Host, class T, class Body>
T guarded_by(typename Host::Request *r, T fallback, Body &&body) noexcept
{
    try {
        return std::forward<Body>(body)();
    } catch (const std::exception &e) {
        try {
            Host::log_error(r, std::string("internal error: ") + e.what());
        } catch (...) {
        }
    } catch (...) {
        try {
            Host::log_error(r, "internal error: unknown exception");
        } catch (...) {
        }
    }
    return fallback;
}

// Logs why a lookup did not produce an account: refusals at debug level, store faults as
// errors (they need the postmaster), unknown users through Dovecot's own message too.
template <class Host>
void log_outcome_by(typename Host::Request *r, const char *driver, const vstore::Outcome &o)
{
    using vstore::Verdict;
    switch (o.verdict) {
    case Verdict::Ok:
        return;
    case Verdict::InvalidLogin:
        Host::log_debug(r, std::string(driver) + ": invalid login: " + o.reason);
        Host::log_unknown_user(r);
        return;
    case Verdict::UserUnknown:
        Host::log_debug(r, std::string(driver) + ": " + o.reason);
        Host::log_unknown_user(r);
        return;
    case Verdict::Disabled:
        Host::log_info(r, std::string(driver) + ": login refused: " + o.reason);
        return;
    case Verdict::StoreFault:
        Host::log_error(r, std::string(driver) + ": store fault (temporary failure): " + o.reason);
        return;
    }
}

// Logs what a store's lookup noted, at debug level.
template <class Host>
void log_notes_by(typename Host::Request *r, const char *driver, const std::vector<std::string> &notes)
{
    for (const std::string &note : notes)
        Host::log_debug(r, std::string(driver) + ": " + note);
}

}  // namespace glue
