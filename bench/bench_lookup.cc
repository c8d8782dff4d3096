// Store lookups without crypt: login parse + domain lookup + user lookup + record decode,
// as the drivers do them, per store and store size (Google Benchmark). Also, with
// --startup, the cost of a fresh store's first lookup and the memory after many lookups.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <random>
#include <string>

#include "bench_store.h"
#include "vmailmgr_store.h"
#include "vpopmail_store.h"

namespace {

std::string bench_root()
{
    const char *e = getenv("VSTORE_BENCH_DIR");
    return e != nullptr ? e : "/tmp/vstore-bench";
}

// Generates (once) and returns the spec of a store of this shape.
bench::StoreSpec store_for(const std::string &kind, size_t users, size_t domains)
{
    bench::StoreSpec s;
    s.dir = bench_root() + "/" + kind + "-" + std::to_string(users) + "-" + std::to_string(domains);
    s.users = users;
    s.domains = domains;
    s.scheme = bench::Scheme::Md5;
    s.hashed = 0;
    const std::string stamp = s.dir + "/.complete";
    if (!std::filesystem::exists(stamp)) {
        std::filesystem::remove_all(s.dir);
        if (kind == "vpopmail")
            bench::write_vpopmail(s);
        else
            bench::write_vmailmgr(s);
        std::ofstream(stamp) << "ok\n";
    }
    return s;
}

std::vector<std::string> random_logins(const bench::StoreSpec &s, size_t n)
{
    std::mt19937_64 rng(42);
    std::vector<std::string> v;
    for (size_t k = 0; k < n; k++)
        v.push_back(bench::login(s, rng() % s.users));
    return v;
}

std::unique_ptr<vstore::VpopmailStore> vpopmail_store(const bench::StoreSpec &s)
{
    vstore::VpopmailSettings set;
    std::string error;
    if (!vstore::VpopmailSettings::parse("vpopmail_dir=" + s.dir + "/vpopmail qmail_dir=" + s.dir + "/qmail", &set,
                                         &error))
        throw std::runtime_error(error);
    return std::make_unique<vstore::VpopmailStore>(set);
}

std::unique_ptr<vstore::VmailmgrStore> vmailmgr_store(const bench::StoreSpec &s)
{
    vstore::VmailmgrSettings set;
    std::string error;
    if (!vstore::VmailmgrSettings::parse("qmail_dir=" + s.dir + "/qmail config_dir=" + s.dir + "/etc", &set, &error))
        throw std::runtime_error(error);
    const std::string home = s.dir + "/home/";
    // base users vbNNNN are not system users here; the store caches getpwnam() anyway
    set.lookup_base_user = [home](const std::string &name) -> std::optional<vstore::BaseUser> {
        if (name.size() != 6 || name.compare(0, 2, "vb") != 0)
            return std::nullopt;
        return vstore::BaseUser{name, home + name, 2000, 2000};
    };
    return std::make_unique<vstore::VmailmgrStore>(set);
}

void BM_VpopmailLookup(benchmark::State &state)
{
    const auto s = store_for("vpopmail", state.range(0), state.range(1));
    auto store = vpopmail_store(s);
    const auto logins = random_logins(s, 1 << 16);
    vstore::VpopmailAccount a;
    size_t k = 0;
    for (auto _ : state) {
        vstore::LoginDecision d = store->decide({logins[k++ & 0xffff], "imap", "", ""}, vstore::PasswordUse::Plain, &a);
        if (!d.before.is_ok()) {
            state.SkipWithError(d.before.reason.c_str());
            break;
        }
        benchmark::DoNotOptimize(d.password.hash.data());
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_VmailmgrLookup(benchmark::State &state)
{
    const auto s = store_for("vmailmgr", state.range(0), state.range(1));
    auto store = vmailmgr_store(s);
    const auto logins = random_logins(s, 1 << 16);
    vstore::VmailmgrAccount a;
    const time_t now = time(nullptr);
    size_t k = 0;
    for (auto _ : state) {
        vstore::LoginDecision d = store->decide({logins[k++ & 0xffff], "imap", "", ""}, now, &a);
        if (!d.before.is_ok()) {
            state.SkipWithError(d.before.reason.c_str());
            break;
        }
        benchmark::DoNotOptimize(d.password.hash.data());
    }
    state.SetItemsProcessed(state.iterations());
}

void shapes(benchmark::internal::Benchmark *b)
{
    const char *max = getenv("VSTORE_BENCH_MAX_USERS");
    const long limit = max != nullptr ? atol(max) : 1000000;
    for (long users : {1000L, 100000L, 1000000L})
        for (long domains : {1L, 1000L})
            if (users <= limit && domains <= users)
                b->Args({users, domains});
}

BENCHMARK(BM_VpopmailLookup)->Apply(shapes)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_VmailmgrLookup)->Apply(shapes)->Unit(benchmark::kNanosecond);

long status_kb(const char *field)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.compare(0, strlen(field), field) == 0)
            return atol(line.c_str() + strlen(field) + 1);
    return -1;
}

// --startup KIND USERS DOMAINS: first-lookup time of a fresh store, then memory after
// 200000 random lookups (RssAnon is the driver's own memory; RssFile is mapped store pages,
// shared page cache).
int startup(const std::string &kind, size_t users, size_t domains)
{
    const auto s = store_for(kind, users, domains);
    const auto logins = random_logins(s, 200000);
    const long anon0 = status_kb("RssAnon:");
    auto t0 = std::chrono::steady_clock::now();
    bool ok;
    std::unique_ptr<vstore::VpopmailStore> vp;
    std::unique_ptr<vstore::VmailmgrStore> vm;
    vstore::VpopmailAccount pa;
    vstore::VmailmgrAccount ma;
    if (kind == "vpopmail") {
        vp = vpopmail_store(s);
        ok = vp->lookup(logins[0], &pa).is_ok();
    } else {
        vm = vmailmgr_store(s);
        ok = vm->lookup(logins[0], "", &ma).is_ok();
    }
    const double first_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    for (const auto &l : logins)
        ok = ok && (vp ? vp->lookup(l, &pa).is_ok() : vm->lookup(l, "", &ma).is_ok());
    printf("{\"store\": \"%s\", \"users\": %zu, \"domains\": %zu, \"ok\": %s, \"first_lookup_us\": %.1f, "
           "\"rss_anon_kb\": %ld, \"rss_anon_growth_kb\": %ld, \"rss_file_kb\": %ld}\n",
           kind.c_str(), users, domains, ok ? "true" : "false", first_us, status_kb("RssAnon:"),
           status_kb("RssAnon:") - anon0, status_kb("RssFile:"));
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc == 5 && std::string(argv[1]) == "--startup")
        return startup(argv[2], strtoull(argv[3], nullptr, 10), strtoull(argv[4], nullptr, 10));
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
