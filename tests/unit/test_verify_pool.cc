// VerifyPool: crypt verifications on threads, results collected through the eventfd.
#include <crypt.h>
#include <poll.h>

#include <gtest/gtest.h>

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
    submit(pool, {"CRYPT", slow, "pw", &ctx[0]});
    for (size_t i = 1; i < n; i++)
        submit(pool, {"CRYPT", hash, "pw", &ctx[i]});
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
        submit(pool, {"CRYPT", hash, i % 2 == 0 ? "right" : "wrong", &ctx[i]});
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
            jobs.push_back(std::make_unique<vstore::VerifyPool::Job>(vstore::VerifyPool::Job{"CRYPT", hash, "pw", &ctx[j]}));
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
    submit(pool, {"CRYPT", "$1$", "x", &ctx});
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
        submit(pool, {"CRYPT", hash, "pw", &c});
    std::vector<void *> left = pool.stop();  // queued, running or finished but not taken
    EXPECT_EQ(left.size(), 5u);
}

}  // namespace

TEST(VerifyPoolTest, ABatchIsTakenUpToTheBoundAndTheRestLeftToTheCaller)
{
    vstore::VerifyPool pool(1);
    struct crypt_data data = {};
    const std::string slow = crypt_r("pw", "$6$rounds=200000$salt$", &data);
    ASSERT_TRUE(submit(pool, {"SHA512-CRYPT", slow, "pw", nullptr}));  // keeps the thread busy
    std::vector<int> ctx(vstore::VerifyPool::max_queued() + 5);
    std::vector<vstore::VerifyPool::JobPtr> jobs;
    for (int &c : ctx)
        jobs.push_back(std::make_unique<vstore::VerifyPool::Job>(vstore::VerifyPool::Job{"SHA512-CRYPT", slow, "pw", &c}));
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
    for (int &c : ctx) {
        if (submit(pool, {"SHA512-CRYPT", slow, "pw", &c}))
            accepted++;
        else
            refused++;
    }
    EXPECT_GE(refused, 1u);
    EXPECT_LE(accepted, vstore::VerifyPool::max_queued() + 1);  // the queue plus the one being hashed
    EXPECT_EQ(pool.stop().size(), accepted);  // every accepted job comes back, none is lost
}
