// The passdb login (plugin/dovecot/passdb_login.h) and the verification threads' hand-over
// (password_verify.h), on a fake of the few Dovecot calls they make: the order of checks, one
// reference and one release per login on every path, the secrets wiped, and logins handed to
// the threads answered from the loop, refused, or released when the threads stop.
#include <crypt.h>
#include <poll.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "passdb_login.h"
#include "password_verify.h"

namespace {

using glue::PassResult;

// One Dovecot auth request as the fake sees it.
struct FakeRequest {
    int refs = 0, ref_calls = 0, unref_calls = 0;
    std::vector<PassResult> answers;
    std::string credentials;  // what lookup_credentials handed over
};

// What the glue did, in order, as one line per call.
struct Calls {
    std::vector<std::string> log;
    std::vector<std::string> wiped;  // the contents of every buffer wiped
    int hashings = 0;                // password_verify calls
    bool fields_ok = true;
    int watched_fd = -1;
    void (*watch_cb)(void *) = nullptr;
    void *watch_ctx = nullptr;
    void (*round_cb)(void *) = nullptr;
    void *round_ctx = nullptr;

    bool logged(const std::string &line) const { return std::find(log.begin(), log.end(), line) != log.end(); }
    size_t count(const std::string &line) const { return std::count(log.begin(), log.end(), line); }
    size_t wipes_of(const std::string &secret) const { return std::count(wiped.begin(), wiped.end(), secret); }
};
Calls calls;

int io_token, timeout_token;

struct FakeHost {
    using Request = FakeRequest;
    using VerifyCallback = void (*)(PassResult, FakeRequest *);
    using CredentialsCallback = void (*)(PassResult, const std::string &, FakeRequest *);

    static void log_debug(Request *, const std::string &m) { calls.log.push_back("debug: " + m); }
    static void log_info(Request *, const std::string &m) { calls.log.push_back("info: " + m); }
    static void log_error(Request *, const std::string &m) { calls.log.push_back("error: " + m); }
    static void log_unknown_user(Request *) { calls.log.push_back("unknown user"); }
    static void log_password_mismatch(Request *) { calls.log.push_back("password mismatch"); }
    static void log_global_info(const std::string &m) { calls.log.push_back("global info: " + m); }
    static void log_global_error(const std::string &m) { calls.log.push_back("global error: " + m); }

    static void set_field(Request *, const char *name, const std::string &value)
    {
        calls.log.push_back(std::string("field ") + name + "=" + value);
    }
    static void set_password_field(Request *, const std::string &hash, const char *scheme)
    {
        calls.log.push_back(std::string("password field {") + scheme + "}" + hash);
    }
    static bool apply_passdb_fields(Request *) { return calls.fields_ok; }
    static void answer_plain(VerifyCallback callback, PassResult result, Request *r)
    {
        calls.log.push_back("answer " + std::to_string(static_cast<int>(result)));
        callback(result, r);
    }
    static void answer_credentials(CredentialsCallback callback, PassResult result, const std::string &hash,
                                   const std::string &scheme, Request *r)
    {
        calls.log.push_back("answer " + std::to_string(static_cast<int>(result)));
        callback(result, result == PassResult::Ok ? "{" + scheme + "}" + hash : std::string(), r);
    }

    static int password_verify(Request *, const char *plain, const std::string &hash, const std::string &scheme)
    {
        calls.hashings++;
        calls.log.push_back("verify");
        switch (vstore::verify_password(scheme, hash, plain)) {
        case vstore::PasswordMatch::Match: return 1;
        case vstore::PasswordMatch::Mismatch: return 0;
        case vstore::PasswordMatch::Unsupported: break;
        }
        return -1;
    }

    static void request_ref(Request *r)
    {
        r->refs++;
        r->ref_calls++;
    }
    static void request_unref(Request *r)
    {
        r->refs--;
        r->unref_calls++;
    }
    static void wipe(char *p, size_t n) noexcept
    {
        const std::string was(p, strnlen(p, n));
        if (!was.empty())
            calls.wiped.push_back(was);
        memset(p, 0, n);
    }

    static bool in_auth_worker() { return false; }
    static struct io *watch_fd(int fd, void (*cb)(void *), void *ctx)
    {
        calls.watched_fd = fd;
        calls.watch_cb = cb;
        calls.watch_ctx = ctx;
        return reinterpret_cast<struct io *>(&io_token);
    }
    static void unwatch_fd(struct io **io)
    {
        calls.log.push_back("unwatch");
        calls.watch_cb = nullptr;
        *io = nullptr;
    }
    static struct timeout *call_next_round(void (*cb)(void *), void *ctx)
    {
        calls.round_cb = cb;
        calls.round_ctx = ctx;
        return reinterpret_cast<struct timeout *>(&timeout_token);
    }
    static void cancel_call(struct timeout **to)
    {
        calls.round_cb = nullptr;
        *to = nullptr;
    }
};

using Login = glue::PassdbLoginT<FakeHost>;
using Threads = glue::VerifyThreadsT<FakeHost>;

class FakeLogin;

// The store the fake driver asks: it answers at once, later (as vpopmail's SQL backend), or
// throws before it kept the question; its decision may throw too.
struct FakeStore {
    enum class Mode { AtOnce, Later, ThrowsBeforeAsking } mode = Mode::AtOnce;
    bool decide_throws = false;
    glue::Decided decision;
    std::deque<FakeLogin *> waiting;
};
FakeStore store;

class FakeLogin final : public Login {
public:
    using PassdbLoginT::PassdbLoginT;
    // the database's answer, for a store that answers later
    void answer_now()
    {
        decide([] { return copy(store.decision); });
    }

private:
    static glue::Decided copy(const glue::Decided &d)
    {
        if (store.decide_throws)
            throw std::runtime_error("the store broke");
        glue::Decided c;
        c.decision.before = d.decision.before;
        c.decision.user = d.decision.user;
        c.decision.password = d.decision.password;
        c.decision.after_match = d.decision.after_match;
        c.decision.notes = d.decision.notes;
        c.owner = d.owner;
        return c;
    }
    void ask() override
    {
        calls.log.push_back("ask");
        switch (store.mode) {
        case FakeStore::Mode::AtOnce:
            answer_now();
            return;
        case FakeStore::Mode::Later:
            store.waiting.push_back(this);
            return;
        case FakeStore::Mode::ThrowsBeforeAsking:
            throw std::runtime_error("no store");
        }
    }
    void on_login() override { calls.log.push_back("on_login"); }
};

void answered(PassResult result, FakeRequest *r) { r->answers.push_back(result); }
void credentials(PassResult result, const std::string &creds, FakeRequest *r)
{
    r->answers.push_back(result);
    r->credentials = creds;
}

std::string md5_crypt(const std::string &plain)
{
    struct crypt_data data = {};
    const char *out = crypt_r(plain.c_str(), "$1$saltsalt$", &data);
    return out == nullptr ? "" : out;
}

std::string sha512_crypt(const std::string &plain, unsigned rounds)
{
    struct crypt_data data = {};
    const char *out = crypt_r(plain.c_str(), ("$6$rounds=" + std::to_string(rounds) + "$salt$").c_str(), &data);
    return out == nullptr ? "" : out;
}

const vstore::HashCostLimits kLimits{500000, 12, 256};

class PassdbLoginTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        calls = Calls();
        store = FakeStore();
        accept("PLAIN", "pw-secret");
    }
    void TearDown() override { EXPECT_TRUE(store.waiting.empty()); }

    // The store finds the account with this password, no refusal, one note.
    static void accept(const std::string &scheme, const std::string &hash)
    {
        store.decision = glue::Decided();
        store.decision.decision.user = "bob@example.com";
        store.decision.decision.password.scheme = scheme;
        store.decision.decision.password.hash = hash;
        store.decision.decision.notes = {"found in vpasswd.cdb"};
        store.decision.owner = "example.com";
    }

    static void verify(FakeRequest &r, const char *password, Threads *threads = nullptr)
    {
        Login::verify_plain<FakeLogin>(&r, "vpopmail", answered, password, kLimits, threads);
    }

    // One login: one reference taken, one dropped, one answer (or none: released unanswered).
    static void expect_one_login(const FakeRequest &r, size_t answers = 1)
    {
        EXPECT_EQ(r.ref_calls, 1);
        EXPECT_EQ(r.unref_calls, 1);
        EXPECT_EQ(r.refs, 0);
        EXPECT_EQ(r.answers.size(), answers);
    }

    // Only the lines of the given kinds, in order.
    static std::vector<std::string> without_debug()
    {
        std::vector<std::string> out;
        for (const std::string &l : calls.log)
            if (l.rfind("debug: ", 0) != 0)
                out.push_back(l);
        return out;
    }
};

TEST_F(PassdbLoginTest, MatchRunsEveryStepInOrder)
{
    FakeRequest r;
    verify(r, "pw-secret");
    ASSERT_EQ(r.answers, std::vector<PassResult>{PassResult::Ok});
    const std::vector<std::string> want = {"ask",
                                           "debug: vpopmail: found in vpasswd.cdb",
                                           "password field {PLAIN}pw-secret",
                                           "verify",
                                           "field user=bob@example.com",
                                           "on_login",
                                           "answer 0"};
    EXPECT_EQ(calls.log, want);
    expect_one_login(r);
    EXPECT_GE(calls.wipes_of("pw-secret"), 2u);  // the password and the hash
}

TEST_F(PassdbLoginTest, LongAndShortPasswordsAreWipedWhereTheyLived)
{
    const std::string long_one(300, 'x');  // past the login's own room: on the heap
    accept("PLAIN", long_one);
    FakeRequest r;
    verify(r, long_one.c_str());
    EXPECT_EQ(r.answers, std::vector<PassResult>{PassResult::Ok});
    expect_one_login(r);
    EXPECT_EQ(calls.wipes_of(long_one), 2u);  // the password and the hash

    calls = Calls();
    const std::string room(127, 'y');  // the longest that fits in the login
    accept("PLAIN", room);
    FakeRequest s;
    verify(s, room.c_str());
    EXPECT_EQ(s.answers, std::vector<PassResult>{PassResult::Ok});
    expect_one_login(s);
    EXPECT_EQ(calls.wipes_of(room), 2u);
}

TEST_F(PassdbLoginTest, WrongPasswordNeverLearnsTheAfterMatchRefusal)
{
    store.decision.decision.after_match = vstore::Outcome::fail(vstore::Verdict::Disabled, "imap disabled");
    FakeRequest wrong;
    verify(wrong, "guess");
    EXPECT_EQ(wrong.answers, std::vector<PassResult>{PassResult::PasswordMismatch});
    EXPECT_FALSE(calls.logged("info: vpopmail: login refused: imap disabled"));
    EXPECT_FALSE(calls.logged("on_login"));
    EXPECT_FALSE(calls.logged("field user=bob@example.com"));
    expect_one_login(wrong);
    EXPECT_EQ(calls.wipes_of("guess"), 1u);

    calls = Calls();
    FakeRequest right;
    verify(right, "pw-secret");
    EXPECT_EQ(right.answers, std::vector<PassResult>{PassResult::UserDisabled});
    const std::vector<std::string> want = {"ask", "password field {PLAIN}pw-secret", "verify",
                                           "info: vpopmail: login refused: imap disabled", "answer 3"};
    EXPECT_EQ(without_debug(), want);
    expect_one_login(right);
}

TEST_F(PassdbLoginTest, EmptyPasswordRefusedBeforeAnyHashing)
{
    FakeRequest r;
    verify(r, "");
    EXPECT_EQ(r.answers, std::vector<PassResult>{PassResult::PasswordMismatch});
    EXPECT_EQ(without_debug(),
              (std::vector<std::string>{"ask", "info: vpopmail: login refused: empty password", "answer 1"}));
    EXPECT_EQ(calls.hashings, 0);
    expect_one_login(r);
    EXPECT_EQ(calls.wipes_of("pw-secret"), 1u);  // the stored hash
}

TEST_F(PassdbLoginTest, RefusalBeforeThePasswordIsAnsweredFirst)
{
    store.decision.decision.before = vstore::Outcome::fail(vstore::Verdict::UserUnknown, "no user bob");
    FakeRequest unknown;
    verify(unknown, "");  // the refusal comes before the empty password
    EXPECT_EQ(unknown.answers, std::vector<PassResult>{PassResult::UserUnknown});
    EXPECT_EQ(calls.log, (std::vector<std::string>{"ask", "debug: vpopmail: found in vpasswd.cdb",
                                                   "debug: vpopmail: no user bob", "unknown user", "answer 2"}));
    expect_one_login(unknown);

    calls = Calls();
    store.decision.decision.before = vstore::Outcome::fail(vstore::Verdict::StoreFault, "cannot read vpasswd.cdb");
    FakeRequest fault;
    verify(fault, "pw-secret");
    EXPECT_EQ(fault.answers, std::vector<PassResult>{PassResult::InternalFailure});
    EXPECT_TRUE(calls.logged("error: vpopmail: store fault (temporary failure): cannot read vpasswd.cdb"));
    EXPECT_EQ(calls.hashings, 0);
    expect_one_login(fault);
}

TEST_F(PassdbLoginTest, CostCapRefusesBeforeHashingAndBeforeThePasswordField)
{
    accept("CRYPT", "$6$rounds=999999999$salt$abcdefghijklmnopqrstuv");
    Threads threads(2);
    FakeRequest r;
    verify(r, "pw-secret", &threads);
    EXPECT_EQ(r.answers, std::vector<PassResult>{PassResult::InternalFailure});
    ASSERT_EQ(without_debug().size(), 3u);
    EXPECT_EQ(without_debug()[1].rfind("error: vpopmail: store fault (temporary failure): ", 0), 0u)
        << without_debug()[1];
    EXPECT_EQ(calls.hashings, 0);
    EXPECT_EQ(calls.watch_cb, nullptr);  // the threads never saw it
    expect_one_login(r);
    EXPECT_EQ(calls.wipes_of("$6$rounds=999999999$salt$abcdefghijklmnopqrstuv"), 1u);
    EXPECT_EQ(calls.wipes_of("pw-secret"), 1u);
}

TEST_F(PassdbLoginTest, UnusableHashAndFailedFieldsAreInternalFailures)
{
    accept("NO-SUCH-SCHEME", "x");
    FakeRequest unusable;
    verify(unusable, "pw-secret");
    EXPECT_EQ(unusable.answers, std::vector<PassResult>{PassResult::InternalFailure});
    expect_one_login(unusable);

    accept("PLAIN", "pw-secret");
    calls = Calls();
    calls.fields_ok = false;
    FakeRequest fields;
    verify(fields, "pw-secret");
    EXPECT_EQ(fields.answers, std::vector<PassResult>{PassResult::InternalFailure});
    expect_one_login(fields);
}

TEST_F(PassdbLoginTest, ExceptionsAreInternalFailuresWithOneRefAndOneUnref)
{
    store.decide_throws = true;
    FakeRequest decide;
    verify(decide, "pw-secret");
    EXPECT_EQ(decide.answers, std::vector<PassResult>{PassResult::InternalFailure});
    EXPECT_EQ(calls.log, (std::vector<std::string>{"ask", "error: internal error: the store broke", "answer 4"}));
    expect_one_login(decide);
    EXPECT_EQ(calls.wipes_of("pw-secret"), 1u);

    calls = Calls();
    store.mode = FakeStore::Mode::ThrowsBeforeAsking;
    FakeRequest ask;
    verify(ask, "pw-secret");
    EXPECT_EQ(ask.answers, std::vector<PassResult>{PassResult::InternalFailure});
    EXPECT_EQ(calls.log, (std::vector<std::string>{"ask", "error: internal error: no store", "answer 4"}));
    expect_one_login(ask);
    EXPECT_EQ(calls.wipes_of("pw-secret"), 1u);
}

TEST_F(PassdbLoginTest, LaterAnswerKeepsTheRequestAndThePasswordUntilThen)
{
    store.mode = FakeStore::Mode::Later;
    FakeRequest r;
    verify(r, "pw-secret");
    ASSERT_EQ(store.waiting.size(), 1u);
    EXPECT_TRUE(r.answers.empty());
    EXPECT_EQ(r.refs, 1);
    EXPECT_EQ(calls.wipes_of("pw-secret"), 0u);
    FakeLogin *login = store.waiting.front();
    store.waiting.pop_front();
    login->answer_now();
    EXPECT_EQ(r.answers, std::vector<PassResult>{PassResult::Ok});
    EXPECT_TRUE(calls.logged("on_login"));
    expect_one_login(r);
    EXPECT_GE(calls.wipes_of("pw-secret"), 2u);
}

TEST_F(PassdbLoginTest, CredentialsTellTheAfterMatchRefusalBeforeHandingOver)
{
    FakeRequest ok;
    Login::lookup_credentials<FakeLogin>(&ok, "vmailmgr", credentials);
    EXPECT_EQ(ok.answers, std::vector<PassResult>{PassResult::Ok});
    EXPECT_EQ(ok.credentials, "{PLAIN}pw-secret");
    EXPECT_EQ(without_debug(), (std::vector<std::string>{"ask", "field user=bob@example.com", "answer 0"}));
    EXPECT_EQ(calls.hashings, 0);
    expect_one_login(ok);
    EXPECT_EQ(calls.wipes_of("pw-secret"), 1u);

    calls = Calls();
    store.decision.decision.after_match = vstore::Outcome::fail(vstore::Verdict::Disabled, "pop3 disabled");
    FakeRequest refused;
    Login::lookup_credentials<FakeLogin>(&refused, "vmailmgr", credentials);
    EXPECT_EQ(refused.answers, std::vector<PassResult>{PassResult::UserDisabled});
    EXPECT_EQ(refused.credentials, "");
    EXPECT_EQ(without_debug(),
              (std::vector<std::string>{"ask", "info: vmailmgr: login refused: pop3 disabled", "answer 3"}));
    expect_one_login(refused);
    EXPECT_EQ(calls.wipes_of("pw-secret"), 1u);
}

TEST(SecretTest, WipesWhenMovedFromAndWhenGone)
{
    calls = Calls();
    auto all_zero = [](const std::string &s) {
        return std::all_of(s.data(), s.data() + s.capacity(), [](char c) { return c == 0; });
    };
    {
        std::string source = "short";  // lives inside the string object: a move leaves bytes behind
        glue::Secret<FakeHost> a(std::move(source));
        EXPECT_TRUE(all_zero(source));
        glue::Secret<FakeHost> b(std::move(a));
        EXPECT_TRUE(all_zero(a.str()));
        EXPECT_EQ(b.str(), "short");
        EXPECT_EQ(calls.wipes_of("short"), 0u);
    }
    EXPECT_EQ(calls.wipes_of("short"), 1u);
}

// The verification threads: the loop's part is run by hand (the flush at the end of the round,
// the pool's fd when it is readable).
class VerifyThreadsTest : public PassdbLoginTest {
protected:
    // Runs the end of the round, then the pool's fd callback until `answers` logins of rs are
    // answered (or 10 s).
    static void run_loop(const std::vector<std::unique_ptr<FakeRequest>> &rs, size_t answers)
    {
        if (calls.round_cb != nullptr)
            calls.round_cb(calls.round_ctx);
        for (int i = 0; i < 1000 && answered_count(rs) < answers; i++) {
            struct pollfd p = {calls.watched_fd, POLLIN, 0};
            if (poll(&p, 1, 10) > 0 && calls.watch_cb != nullptr)
                calls.watch_cb(calls.watch_ctx);
        }
    }
    static size_t answered_count(const std::vector<std::unique_ptr<FakeRequest>> &rs)
    {
        size_t n = 0;
        for (const auto &r : rs)
            n += r->answers.size();
        return n;
    }
};

TEST_F(VerifyThreadsTest, QueuedLoginsAreAnsweredFromTheLoop)
{
    const std::string hash = md5_crypt("pw-secret");
    accept("CRYPT", hash);
    store.decision.decision.after_match = vstore::Outcome::fail(vstore::Verdict::Disabled, "imap disabled");
    std::vector<std::unique_ptr<FakeRequest>> rs;
    {
        Threads threads(2);
        rs.push_back(std::make_unique<FakeRequest>());
        verify(*rs.back(), "pw-secret", &threads);
        rs.push_back(std::make_unique<FakeRequest>());
        verify(*rs.back(), "wrong", &threads);
        // queued: nothing answered, nothing verified in the loop, the requests held
        EXPECT_EQ(answered_count(rs), 0u);
        EXPECT_EQ(calls.hashings, 0);
        EXPECT_EQ(rs[0]->refs, 1);
        EXPECT_NE(calls.round_cb, nullptr);
        EXPECT_TRUE(calls.logged("global info: verifying crypt password hashes on 2 threads in this auth process"));
        EXPECT_EQ(calls.count("password field {CRYPT}" + hash), 2u);
        run_loop(rs, 2);
        EXPECT_EQ(rs[0]->answers, std::vector<PassResult>{PassResult::UserDisabled});
        EXPECT_EQ(rs[1]->answers, std::vector<PassResult>{PassResult::PasswordMismatch});
        EXPECT_EQ(calls.count("info: vpopmail: login refused: imap disabled"), 1u);
        EXPECT_EQ(calls.count("password mismatch"), 1u);
        EXPECT_EQ(calls.hashings, 0);
    }
    for (const auto &r : rs)
        expect_one_login(*r);
    EXPECT_GE(calls.wipes_of("pw-secret"), 1u);
    EXPECT_GE(calls.wipes_of("wrong"), 1u);
    EXPECT_GE(calls.wipes_of(hash), 2u);
}

TEST_F(VerifyThreadsTest, FullQueueAndOwnerShareRefuseAndStoppingReleasesTheRest)
{
    // One thread on costly-enough hashes: the pool keeps at most its owner's share waiting,
    // what it refuses waits in the batch, and a full batch refuses at once.
    const std::string hash = sha512_crypt("pw-secret", 20000);
    accept("CRYPT", hash);
    const size_t n = vstore::VerifyPool::max_owner_queued() + vstore::VerifyPool::max_queued() + 200;
    std::vector<std::unique_ptr<FakeRequest>> rs;
    {
        Threads threads(1);
        for (size_t i = 0; i < n; i++) {
            rs.push_back(std::make_unique<FakeRequest>());
            verify(*rs.back(), "pw-secret", &threads);
        }
        const size_t busy = answered_count(rs);
        EXPECT_GT(busy, 0u);
        EXPECT_EQ(calls.count("error: password verification queue is full (1024 waiting): temporary failure"), busy);
        // the end of the round: the pool refuses the batch's jobs past the owner's share
        calls.round_cb(calls.round_ctx);
        EXPECT_GT(answered_count(rs), busy);
        EXPECT_EQ(calls.count("error: vpopmail: password verifications of owner example.com fill its share of the "
                              "verification queue: temporary failure (1 refused since start)"),
                  1u);
        for (const auto &r : rs)
            for (PassResult a : r->answers)
                EXPECT_EQ(a, PassResult::InternalFailure);
        EXPECT_LT(answered_count(rs), n);
    }
    // stopped: the logins still waiting are released unanswered, each once
    size_t released = 0;
    for (const auto &r : rs) {
        EXPECT_EQ(r->ref_calls, 1);
        EXPECT_EQ(r->unref_calls, 1);
        EXPECT_LE(r->answers.size(), 1u);
        released += r->answers.empty();
    }
    EXPECT_GT(released, 0u);
    EXPECT_GE(calls.wipes_of("pw-secret"), n);
    EXPECT_TRUE(calls.logged("unwatch"));
}

}  // namespace
