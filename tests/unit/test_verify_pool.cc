// VerifyPool: crypt verifications on threads, results collected through the eventfd.
#include <crypt.h>
#include <poll.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "verify_pool.h"

namespace {

std::string md5_crypt(const std::string &plain, const std::string &salt)
{
    struct crypt_data data = {};
    const char *out = crypt_r(plain.c_str(), ("$1$" + salt + "$").c_str(), &data);
    return out == nullptr ? "" : out;
}

// Submits one job; false when the pool's queue is full.
bool submit(vstore::VerifyPool &pool, vstore::VerifyPool::Job job)
{
    std::vector<vstore::VerifyPool::JobPtr> one;
    one.push_back(std::make_unique<vstore::VerifyPool::Job>(std::move(job)));
    return pool.submit(one) == 1;
}

// A job of `owner` whose hash asks for `work_us` of work (hash_work_us()'s figure).
vstore::VerifyPool::JobPtr job(const std::string &scheme, const std::string &hash, void *ctx,
                               const std::string &owner, uint64_t work_us = 300, const std::string &plain = "pw")
{
    auto j = std::make_unique<vstore::VerifyPool::Job>();
    j->scheme = scheme;
    j->hash = hash;
    j->plain = plain;
    j->ctx = ctx;
    j->owner = owner;
    j->work_us = work_us;
    return j;
}

// Waits on the pool's fd until `want` results are in.
std::map<void *, vstore::PasswordMatch> collect(vstore::VerifyPool &pool, size_t want)
{
    std::map<void *, vstore::PasswordMatch> got;
    while (got.size() < want) {
        struct pollfd p = {pool.notify_fd(), POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            break;
        for (const vstore::VerifyPool::Done &d : pool.take_done())
            got[d.ctx] = d.match;
    }
    return got;
}

// Submits n jobs, the first a slow SHA-512 hash: the thread is busy with it until all are
// queued, so that batching sees the whole queue (a fast first job could finish alone first).
void submit_behind_a_slow_job(vstore::VerifyPool &pool, const std::string &hash, int *ctx, size_t n)
{
    struct crypt_data data = {};
    const char *slow = crypt_r("pw", "$6$rounds=50000$slow$", &data);
    ASSERT_NE(slow, nullptr);
    submit(pool, *job("CRYPT", slow, &ctx[0], "one.example"));
    for (size_t i = 1; i < n; i++)
        submit(pool, *job("CRYPT", hash, &ctx[i], "one.example"));
}

std::string sha512_crypt(const std::string &plain, unsigned rounds)
{
    struct crypt_data data = {};
    const char *out = crypt_r(plain.c_str(), ("$6$rounds=" + std::to_string(rounds) + "$salt$").c_str(), &data);
    return out == nullptr ? "" : out;
}

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// How long the victim's one job takes from submit to its result.
double victim_latency_ms(vstore::VerifyPool &pool, const std::string &cheap_hash, int *victim)
{
    std::vector<vstore::VerifyPool::JobPtr> one;
    one.push_back(job("CRYPT", cheap_hash, victim, "victim.example"));
    const auto start = Clock::now();
    EXPECT_EQ(pool.submit(one), 1u);
    for (;;) {
        struct pollfd p = {pool.notify_fd(), POLLIN, 0};
        if (poll(&p, 1, 20000) <= 0)
            return 1e9;
        for (const vstore::VerifyPool::Done &d : pool.take_done())
            if (d.ctx == victim)
                return ms_since(start);
    }
}

// The schemes verify_password() checks with crypt(3): the ones the glue hands to the pool.
TEST(PasswordCheck, CryptSchemes)
{
    EXPECT_TRUE(vstore::is_crypt_scheme("CRYPT"));  // DES and every $-prefixed scheme
    EXPECT_TRUE(vstore::is_crypt_scheme("DES-CRYPT"));
    EXPECT_TRUE(vstore::is_crypt_scheme("MD5-CRYPT"));
    EXPECT_TRUE(vstore::is_crypt_scheme("SHA512-CRYPT"));
    EXPECT_FALSE(vstore::is_crypt_scheme("PLAIN"));
    EXPECT_FALSE(vstore::is_crypt_scheme("PLAIN-MD5"));
    EXPECT_FALSE(vstore::is_crypt_scheme("CRAM-MD5"));
}

TEST(VerifyPoolTest, VerifiesOnThreadsAndHandsEveryResultBack)
{
    vstore::VerifyPool pool(3);
    EXPECT_EQ(pool.threads(), 3u);
    const std::string hash = md5_crypt("right", "abcdefgh");
    ASSERT_FALSE(hash.empty());
    int ctx[40];
    for (int i = 0; i < 40; i++)
        submit(pool, *job("CRYPT", hash, &ctx[i], "one.example", 300, i % 2 == 0 ? "right" : "wrong"));
    auto got = collect(pool, 40);
    ASSERT_EQ(got.size(), 40u);
    for (int i = 0; i < 40; i++)
        EXPECT_EQ(got[&ctx[i]], i % 2 == 0 ? vstore::PasswordMatch::Match : vstore::PasswordMatch::Mismatch) << i;
    EXPECT_TRUE(pool.stop().empty());
}

TEST(VerifyPoolTest, WakesTheLoopOncePerBatchAsLargeAsTheQueue)
{
    vstore::VerifyPool pool(1);
    const std::string hash = md5_crypt("pw", "batching");
    int ctx[20];
    submit_behind_a_slow_job(pool, hash, ctx, 20);
    // While work remains, the fd turns readable only once as many results are done as jobs
    // are still queued (after the 10th of 20)...
    struct pollfd p = {pool.notify_fd(), POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 10000), 1);
    size_t first = pool.take_done().size();
    EXPECT_GE(first, 10u);
    // ...and the rest still arrives: the last result wakes it whatever the batch size.
    EXPECT_EQ(collect(pool, 20 - first).size(), 20 - first);
}

TEST(VerifyPoolTest, ALongQueueDoesNotHoldResultsBack)
{
    vstore::VerifyPool pool(1);
    const std::string hash = md5_crypt("pw", "long-queue");
    std::vector<int> ctx(400);
    submit_behind_a_slow_job(pool, hash, ctx.data(), ctx.size());
    // A batch is at most 64 results: the loop hears of the first ones long before the end.
    struct pollfd p = {pool.notify_fd(), POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 10000), 1);
    size_t first = pool.take_done().size();
    EXPECT_GE(first, 64u);
    EXPECT_LT(first, 400u);
    EXPECT_EQ(collect(pool, 400 - first).size(), 400 - first);
}

TEST(VerifyPoolTest, AJobSubmittedAsAThreadStopsLookingIsNotLeftBehind)
{
    // A thread out of jobs looks for more for a while before it sleeps, and a submit does not
    // wake it while it looks: jobs submitted just before, while and just after it gives up,
    // one at a time or in batches larger than the pool, must all be taken (a lost wake-up
    // would leave one waiting for ever).
    vstore::VerifyPool pool(2);
    const std::string hash = md5_crypt("pw", "looking");
    std::vector<int> ctx(5);
    for (size_t i = 0; i < 600; i++) {
        const size_t n = i % 3 == 0 ? 5 : 1;
        std::vector<vstore::VerifyPool::JobPtr> jobs;
        for (size_t j = 0; j < n; j++)
            jobs.push_back(job("CRYPT", hash, &ctx[j], "one.example"));
        ASSERT_EQ(pool.submit(jobs), n);
        EXPECT_TRUE(jobs.empty());
        ASSERT_EQ(collect(pool, n).size(), n) << "a job of round " << i << " was not taken";
        std::this_thread::sleep_for(std::chrono::microseconds(i % 60));
    }
}

TEST(VerifyPoolTest, AnUnusableHashIsNotAMatch)
{
    vstore::VerifyPool pool(1);
    int ctx;
    submit(pool, *job("CRYPT", "$1$", &ctx, "one.example", 300, "x"));
    auto got = collect(pool, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[&ctx], vstore::PasswordMatch::Match);
}

TEST(VerifyPoolTest, StopReturnsWhatWasNotHandedBack)
{
    vstore::VerifyPool pool(1);
    const std::string hash = md5_crypt("pw", "saltsalt");
    int ctx[5];
    for (int &c : ctx)
        submit(pool, *job("CRYPT", hash, &c, "one.example"));
    std::vector<void *> left = pool.stop();  // queued, running or finished but not taken
    EXPECT_EQ(left.size(), 5u);
}

}  // namespace

TEST(VerifyPoolTest, ABatchIsTakenUpToTheBoundAndTheRestLeftToTheCaller)
{
    vstore::VerifyPool pool(1);
    struct crypt_data data = {};
    const std::string slow = crypt_r("pw", "$6$rounds=200000$salt$", &data);
    ASSERT_TRUE(submit(pool, *job("SHA512-CRYPT", slow, nullptr, "busy.example")));  // keeps the thread busy
    std::vector<int> ctx(vstore::VerifyPool::max_queued() + 5);
    std::vector<vstore::VerifyPool::JobPtr> jobs;
    // owners taking turns: none reaches its own share, the queue's bound decides
    for (size_t i = 0; i < ctx.size(); i++)
        jobs.push_back(job("SHA512-CRYPT", slow, &ctx[i], "owner" + std::to_string(i % 4)));
    const size_t taken = pool.submit(jobs);
    EXPECT_GE(taken, vstore::VerifyPool::max_queued() - 1);
    EXPECT_LE(taken, vstore::VerifyPool::max_queued());
    ASSERT_EQ(jobs.size(), ctx.size() - taken);  // the rest, in order, still the caller's
    EXPECT_EQ(jobs.front()->ctx, &ctx[taken]);
    EXPECT_EQ(jobs.back()->ctx, &ctx.back());
    EXPECT_EQ(pool.stop().size(), taken + 1);
}

TEST(VerifyPoolTest, TheQueueIsBounded)
{
    // One thread busy with a costly hash: the jobs behind it wait, up to max_queued().
    vstore::VerifyPool pool(1);
    struct crypt_data data = {};
    const std::string slow = crypt_r("pw", "$6$rounds=200000$salt$", &data);
    std::vector<int> ctx(vstore::VerifyPool::max_queued() + 2);
    size_t accepted = 0, refused = 0;
    for (size_t i = 0; i < ctx.size(); i++) {
        if (submit(pool, *job("SHA512-CRYPT", slow, &ctx[i], "owner" + std::to_string(i % 4))))
            accepted++;
        else
            refused++;
    }
    EXPECT_GE(refused, 1u);
    EXPECT_LE(accepted, vstore::VerifyPool::max_queued() + 1);  // the queue plus the one being hashed
    EXPECT_EQ(pool.stop().size(), accepted);  // every accepted job comes back, none is lost
}

// Issue 25: another owner's slow hashes (64 jobs queued, both threads could be busy with
// them) must not delay a victim's cheap hash by more than about one cheap job.
TEST(VerifyPoolFairness, AVictimIsServedAtOnceWhileAnAttackerHasSlowJobsQueued)
{
    vstore::VerifyPool pool(2);
    const std::string slow = sha512_crypt("pw", 200000);  // about 0.2 s here
    const std::string cheap = md5_crypt("victim-pw", "victim");
    std::vector<int> attacker(64);
    std::vector<vstore::VerifyPool::JobPtr> jobs;
    for (int &c : attacker)
        jobs.push_back(job("CRYPT", slow, &c, "attacker.example", 25000));  // just over the threshold
    ASSERT_EQ(pool.submit(jobs), 64u);  // 64 x 25 ms is within the attacker's backlog
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // its jobs are running
    int victim[3];
    for (int &v : victim) {
        const double ms = victim_latency_ms(pool, cheap, &v);
        // one MD5-crypt is well under a millisecond; a slow job takes 200 ms
        EXPECT_LT(ms, 60.0) << "the victim waited behind the attacker's jobs";
    }
    pool.stop();
}

// Jobs whose hash looks cheap but takes long (a form hash_work_us() misjudges; figures of
// 5 ms and more are measured) count as slow once one of them was measured: the owner's jobs
// queued before are then held to its share.
TEST(VerifyPoolFairness, MeasuredSlownessHoldsAnOwnerToItsShare)
{
    vstore::VerifyPool pool(2);
    // ~250 ms of CPU each, well past the 100 ms that marks an owner slow
    const std::string slow = sha512_crypt("pw", 600000);
    const std::string cheap = md5_crypt("victim-pw", "victim");
    std::vector<int> attacker(16);
    std::vector<vstore::VerifyPool::JobPtr> jobs;
    for (int &c : attacker)
        jobs.push_back(job("CRYPT", slow, &c, "liar.example", 5000));  // 50 times too low
    ASSERT_EQ(pool.submit(jobs), 16u);
    // the first two run on both threads; once they are measured the rest get one thread
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    int victim[3];
    for (int &v : victim)
        EXPECT_LT(victim_latency_ms(pool, cheap, &v), 60.0);
    pool.stop();
}

TEST(VerifyPoolFairness, AnOwnersJobsOverItsShareAreRefusedAndOthersStillQueue)
{
    vstore::VerifyPool pool(2);
    const std::string hash = md5_crypt("pw", "refused");
    std::vector<int> attacker(64);
    std::vector<vstore::VerifyPool::JobPtr> jobs;
    for (int &c : attacker)  // each at the cap: about a second of work
        jobs.push_back(job("CRYPT", hash, &c, "attacker.example", 1000000));
    int victim;
    jobs.push_back(job("CRYPT", hash, &victim, "victim.example"));
    const size_t taken = pool.submit(jobs);
    // its share of the threads (one of two) verifies 8 of them in max_slow_backlog_us()
    const size_t share = vstore::VerifyPool::max_slow_backlog_us() * pool.owner_slow_threads() / 1000000;
    EXPECT_EQ(taken, share + 1);  // and the victim's
    ASSERT_EQ(jobs.size(), 64 - share);
    for (const vstore::VerifyPool::JobPtr &j : jobs) {
        EXPECT_EQ(j->owner, "attacker.example");
        EXPECT_EQ(j->refused, vstore::VerifyPool::Refused::OwnerSlowShare);
    }
    EXPECT_EQ(jobs.front()->ctx, &attacker[share]);  // the rest in order
    auto got = collect(pool, taken);
    EXPECT_EQ(got.size(), taken);
    EXPECT_EQ(got.count(&victim), 1u);

    // cheap jobs: one owner has at most half the queue, the other half stays for the others
    const std::string busy = sha512_crypt("pw", 200000);
    std::vector<int> many(vstore::VerifyPool::max_queued());
    std::vector<vstore::VerifyPool::JobPtr> burst;
    for (int &c : many)
        burst.push_back(job("CRYPT", busy, &c, "burst.example"));
    EXPECT_LE(pool.submit(burst), vstore::VerifyPool::max_owner_queued() + 2);  // + the two running
    ASSERT_FALSE(burst.empty());
    EXPECT_EQ(burst.front()->refused, vstore::VerifyPool::Refused::OwnerQueueShare);
    std::vector<vstore::VerifyPool::JobPtr> other;
    other.push_back(job("CRYPT", hash, &victim, "victim.example"));
    EXPECT_EQ(pool.submit(other), 1u);
    pool.stop();
}

// When the second of two jobs that started together came after the first, relative to the
// first's time: about 0 when they ran at once, about 1 when one waited for the other.
double second_result_gap(vstore::VerifyPool &pool, const std::string &hash, const std::string &owner)
{
    int ctx[2];
    std::vector<vstore::VerifyPool::JobPtr> jobs;
    for (int &c : ctx)
        jobs.push_back(job("CRYPT", hash, &c, owner, 1500));  // as SHA-512 at 5000 rounds
    const auto start = Clock::now();
    EXPECT_EQ(pool.submit(jobs), 2u);
    std::vector<double> at;
    while (at.size() < 2) {
        struct pollfd p = {pool.notify_fd(), POLLIN, 0};
        if (poll(&p, 1, 20000) != 1)
            return 1e9;
        for (size_t i = pool.take_done().size(); i > 0; i--)
            at.push_back(ms_since(start));
    }
    return (at[1] - at[0]) / at[0];
}

// Work-conserving: one owner's cheap jobs run on every thread at once.
TEST(VerifyPoolFairness, AnHonestSingleOwnerUsesEveryThread)
{
    vstore::VerifyPool pool(2);
    // long enough (about 0.1 s) that a thread's wake-up is small beside it; its figure says
    // 1.5 ms (second_result_gap), so it is not timed and cannot mark the owner slow
    const std::string hash = sha512_crypt("pw", 300000);
    // On one thread the gap is a whole job, every time; another process on this machine can
    // delay one thread now and then, so the best of five attempts counts.
    double best = 1e9;
    for (int attempt = 0; attempt < 5 && best >= 0.5; attempt++)
        best = std::min(best, second_result_gap(pool, hash, "honest.example"));
    EXPECT_LT(best, 0.5) << "the second job waited for the first";
}

// Owners take turns: a burst of one owner does not put the others behind it.
TEST(VerifyPoolFairness, OwnersAreServedRoundRobin)
{
    vstore::VerifyPool pool(1);
    int blocker;
    std::vector<vstore::VerifyPool::JobPtr> first;
    first.push_back(job("CRYPT", sha512_crypt("pw", 200000), &blocker, "blocker.example"));
    ASSERT_EQ(pool.submit(first), 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the thread is busy with it
    const std::string hash = md5_crypt("pw", "roundrob");
    int a[6], b[3], c[3];
    std::vector<vstore::VerifyPool::JobPtr> jobs;
    for (int &x : a)
        jobs.push_back(job("CRYPT", hash, &x, "a.example"));
    for (int &x : b)
        jobs.push_back(job("CRYPT", hash, &x, "b.example"));
    for (int &x : c)
        jobs.push_back(job("CRYPT", hash, &x, "c.example"));
    ASSERT_EQ(pool.submit(jobs), 12u);
    std::vector<void *> order;
    while (order.size() < 13) {
        struct pollfd p = {pool.notify_fd(), POLLIN, 0};
        ASSERT_EQ(poll(&p, 1, 20000), 1);
        for (const vstore::VerifyPool::Done &d : pool.take_done())
            order.push_back(d.ctx);
    }
    const std::vector<void *> want = {&blocker, &a[0], &b[0], &c[0], &a[1], &b[1], &c[1],
                                      &a[2],    &b[2], &c[2], &a[3], &a[4], &a[5]};
    EXPECT_EQ(order, want);
}
