#!/usr/bin/env python3
"""Two builds of vstore-auth compared in the same run: store lookups (bench_lookup) and logins
through a real Dovecot (auth_load), each figure measured alternately on the baseline build and
on the build under test, so that the machine's noise hits both alike.

    python3 bench/compare_builds.py --base-build /tmp/vstore-base/build --build build \\
        --out /tmp/compare-results            # about 8 minutes, as root
    ... --quick                               # smaller stores, 1 s runs (~3 minutes)

Each build directory needs the targets vstore_auth, bench_lookup, gen_store and auth_load.

1. Store lookups: for every bench_lookup benchmark (vpopmail and vmailmgr, 1k to 1M users,
   1 and 1000 domains), the base binary, then the HEAD binary, --runs rounds (ABAB...), on the
   same stores (one VSTORE_BENCH_DIR); then the first lookup of a fresh store (--startup),
   alternately too. Figures are medians; ranges are min-max over the rounds.
2. Logins: run_bench.py's stores (same users and hashes for both builds), configurations and
   load generator. For each configuration a Dovecot with each build (and one with HEAD and
   shared_fs=yes) runs at once; the load goes to each in turn, --runs rounds of --seconds.
   (a) stock settings: blocking=yes, passdb on Dovecot's auth workers (root);
   (b) vpopmail in-process: blocking=no lastauth=no and service auth { user = vpopmail };
   (c) HEAD with shared_fs=yes: every cached file stat()ed on every lookup, as on NFS;
   and (a) with lastauth=no, which leaves the store lookup alone on the workers.

Prints markdown tables and writes results.md and results.json to --out. The stores and
Dovecot work directories live under --work and are removed at the end (--keep-work keeps
them). Creates the vmailmgr base users vb0000.. as run_bench.py does (their homes are put back
afterwards)."""

import argparse
import contextlib
import json
import os
import platform
import pwd
import re
import shutil
import statistics
import subprocess
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run_bench as rb  # noqa: E402  (also puts tests/integration on sys.path)
from dovecot_harness import Dovecot  # noqa: E402

AUTH_AS_VPOPMAIL = "service auth {\n  user = vpopmail\n}\n"
HZ = os.sysconf("SC_CLK_TCK")


def med(v):
    return statistics.median(v)


def spread(v, fmt="{:.0f}"):
    return f"{fmt.format(min(v))}-{fmt.format(max(v))}"


def git_rev(build):
    """The commit a build directory was configured from (its CMakeCache's source dir)."""
    try:
        src = next(l.split("=", 1)[1].strip() for l in open(os.path.join(build, "CMakeCache.txt"))
                   if l.startswith("CMAKE_HOME_DIRECTORY") or l.startswith("vstore-auth_SOURCE_DIR"))
        rev = subprocess.run(["git", "-C", src, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", src, "status", "--porcelain", "--", "plugin", "compat", "bench"],
                               capture_output=True, text=True).stdout.strip()
        return (rev or "?") + (" (plugin/compat/bench modified)" if dirty else ""), src
    except (OSError, StopIteration):
        return "?", "?"


# ---------------------------------------------------------------------------------------------
# 1. store lookups


def lookup_names(build, env):
    out = rb.sh(f"{build}/bench/bench_lookup", "--benchmark_list_tests=true", env=env)
    return [l.strip() for l in out.splitlines() if l.strip()]


def lookup_once(build, env, name, min_time):
    out = rb.sh(f"{build}/bench/bench_lookup", "--benchmark_format=json", f"--benchmark_min_time={min_time}",
                f"--benchmark_filter=^{re.escape(name)}$", env=env)
    for b in json.loads(out)["benchmarks"]:
        if b["name"] == name:
            if b.get("error_occurred"):
                raise RuntimeError(f"{build}: {name}: {b.get('error_message')}")
            return b["real_time"], b["cpu_time"]
    raise RuntimeError(f"{build}: {name} did not run")


def shape_of(name):
    store = "vpopmail" if "Vpopmail" in name else "vmailmgr"
    users, domains = (int(x) for x in name.split("/")[1:3])
    return store, users, domains


def lookups(a, builds, results):
    env = dict(os.environ, VSTORE_BENCH_DIR=os.path.join(a.work, "stores"),
               VSTORE_BENCH_MAX_USERS=str(a.max_users))
    names = lookup_names(builds["head"], env)
    # Generate every store once (the first binary to need one writes it), and read it once
    # with each binary so that neither meets a cold page cache.
    t0 = time.time()
    for key in ("head", "base"):
        rb.sh(f"{builds[key]}/bench/bench_lookup", "--benchmark_min_time=0.01", "--benchmark_format=json", env=env)
    print(f"  stores ready and read once by each build ({time.time() - t0:.0f} s)", flush=True)
    samples = {n: {"base": [], "head": []} for n in names}
    first = {n: {"base": [], "head": []} for n in names}
    for r in range(a.runs):
        for n in names:
            for key in ("base", "head"):
                samples[n][key].append(lookup_once(builds[key], env, n, a.min_time))
        for n in names:
            store, users, domains = shape_of(n)
            for key in ("base", "head"):
                st = json.loads(rb.sh(f"{builds[key]}/bench/bench_lookup", "--startup", store, str(users),
                                      str(domains), env=env))
                if not st["ok"]:
                    raise RuntimeError(f"{builds[key]}: --startup {store} {users} {domains} failed")
                first[n][key].append(st["first_lookup_us"])
        print(f"  lookups: round {r + 1}/{a.runs} done", flush=True)
    rows = []
    for n in names:
        store, users, domains = shape_of(n)
        row = {"store": store, "users": users, "domains": domains}
        for key in ("base", "head"):
            row[key] = {"real_ns": [s[0] for s in samples[n][key]], "cpu_ns": [s[1] for s in samples[n][key]],
                        "first_lookup_us": first[n][key]}
        row["ratio_real"] = med(row["head"]["real_ns"]) / med(row["base"]["real_ns"])
        row["ratio_cpu"] = med(row["head"]["cpu_ns"]) / med(row["base"]["cpu_ns"])
        row["ratio_real_per_round"] = [h / b for h, b in zip(row["head"]["real_ns"], row["base"]["real_ns"])]
        rows.append(row)
        print(f"  {store:8} {users:>7} users {domains:>4} domains: base {med(row['base']['real_ns']):6.0f} ns, "
              f"HEAD {med(row['head']['real_ns']):6.0f} ns, HEAD/base {row['ratio_real']:.2f}", flush=True)
    results["lookups"] = rows


# ---------------------------------------------------------------------------------------------
# 2. logins end to end


def chown_tree(path, uid, gid):
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for f in files:
            os.lchown(os.path.join(root, f), uid, gid)


def own_stores(vp, vm, domains):
    """The ownership real sites have: the vpopmail tree belongs to vpopmail (the domains'
    uid/gid in users/cdb are 89/89), qmail's users/cdb to root; a vmailmgr home to its base
    user. HEAD opens the files with those owners' rights, the base build as the process."""
    chown_tree(os.path.join(vp, "vpopmail"), 89, 89)
    for d in range(domains):
        pw = pwd.getpwnam(f"vb{d:04d}")  # run_bench.ensure_base_users
        chown_tree(os.path.join(vm, "home", pw.pw_name), pw.pw_uid, pw.pw_gid)


def auth_cpu(dc):
    """{pid: CPU seconds so far} of this Dovecot's auth process and workers (its master's
    children: every instance started from this process has the same instance name)."""
    out = {}
    for pid, _ in rb.auth_processes(dc):
        try:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(f[1]) == dc.proc.pid:
            out[pid] = (int(f[11]) + int(f[12])) / HZ  # utime + stime, all threads
    return out


def measured_load(ra, dc, login_file, seconds):
    """One load run, with the CPU its auth processes spent per login (less sensitive to the
    machine's other load than logins/s: a busy neighbour takes cores, not instructions)."""
    c0 = auth_cpu(dc)
    r = rb.load(ra, dc, login_file, seconds)
    c1 = auth_cpu(dc)
    used = sum(t - c0.get(pid, 0.0) for pid, t in c1.items())
    r["auth_cpu_us_per_login"] = used / max(r["requests"], 1) * 1e6
    return r


def groups(scheme, vp, vm):
    """(configuration, [(variant, build key, Dovecot config)])."""
    vp_args = f"vpopmail_dir={vp}/vpopmail qmail_dir={vp}/qmail"
    vm_args = f"qmail_dir={vm}/qmail config_dir={vm}/etc"
    p = rb.passdb
    inproc = vp_args + " blocking=no lastauth=no"
    g = [
        ("vpopmail, workers (stock, blocking=yes)", [
            ("base", "base", p("vpopmail", vp_args + " blocking=yes")),
            ("head", "head", p("vpopmail", vp_args + " blocking=yes")),
            ("shared", "head", p("vpopmail", vp_args + " blocking=yes shared_fs=yes"))]),
        # the same without lastauth: what the lookup alone costs on the workers (HEAD checks
        # lastauth's age with the domain's rights, a switch of fs identity on every login)
        ("vpopmail, workers, lastauth=no", [
            ("base", "base", p("vpopmail", vp_args + " blocking=yes lastauth=no")),
            ("head", "head", p("vpopmail", vp_args + " blocking=yes lastauth=no"))]),
        ("vpopmail, in-process (blocking=no, auth as vpopmail)", [
            ("base", "base", p("vpopmail", inproc) + AUTH_AS_VPOPMAIL),
            ("head", "head", p("vpopmail", inproc) + AUTH_AS_VPOPMAIL),
            ("shared", "head", p("vpopmail", inproc + " shared_fs=yes") + AUTH_AS_VPOPMAIL)]),
        ("vmailmgr, workers (stock, blocking=yes)", [
            ("base", "base", p("vmailmgr", vm_args + " blocking=yes")),
            ("head", "head", p("vmailmgr", vm_args + " blocking=yes")),
            ("shared", "head", p("vmailmgr", vm_args + " blocking=yes shared_fs=yes"))]),
    ]
    if scheme == "sha512":
        # the hash dominates (about 1 ms a login): one check that nothing else moved
        g = [(name, [v for v in vs if v[0] != "shared"]) for name, vs in (g[0], g[2])]
    return g


def logins(a, builds, results):
    schemes = a.schemes.split(",")
    users, domains, hashed = a.users, a.domains, a.hashed
    rb.ROOT = a.work  # run_bench's stores go below our own directory
    ra = types.SimpleNamespace(build=builds["head"], concurrency=a.concurrency, smoke=False)
    homes = {}
    for d in range(domains):
        name = f"vb{d:04d}"
        try:
            homes[name] = pwd.getpwnam(name).pw_dir
        except KeyError:
            homes[name] = None
    rows = []
    try:
        for scheme in schemes:
            t0 = time.time()
            vp, vm, _, login_file = rb.make_stores(ra, scheme, users, domains, hashed)
            own_stores(vp, vm, domains)
            print(f"  {scheme}: stores made ({time.time() - t0:.0f} s)", flush=True)
            for gname, variants in groups(scheme, vp, vm):
                runs = {v[0]: [] for v in variants}
                with contextlib.ExitStack() as stack:
                    dcs = {}
                    for vname, key, conf in variants:
                        work = os.path.join(a.work, "dovecot", f"{scheme}-{len(rows)}-{vname}")
                        dcs[vname] = stack.enter_context(
                            Dovecot(work, f"{builds[key]}/modules/auth", conf + rb.USERDB, debug=False))
                    for vname, _, _ in variants:
                        rb.load(ra, dcs[vname], login_file, a.warmup)  # workers started, files opened
                    for _ in range(a.runs):
                        for vname, _, _ in variants:
                            runs[vname].append(measured_load(ra, dcs[vname], login_file, a.seconds))
                    bad = {v: sum(r["fail"] + r["tempfail"] for r in rs) for v, rs in runs.items()}
                    for vname, n in bad.items():
                        if n:
                            print(f"  {vname}: {n} failed logins; Dovecot log:\n{dcs[vname].tail(20)}", flush=True)
                row = {"scheme": scheme, "config": gname}
                for vname, rs in runs.items():
                    row[vname] = {"logins_per_s": [r["logins_per_s"] for r in rs], "p50_ms": [r["p50_ms"] for r in rs],
                                  "p99_ms": [r["p99_ms"] for r in rs],
                                  "auth_cpu_us": [r["auth_cpu_us_per_login"] for r in rs],
                                  "failed": sum(r["fail"] + r["tempfail"] for r in rs),
                                  "requests": sum(r["requests"] for r in rs)}
                b = med(row["base"]["logins_per_s"])
                row["head_vs_base"] = med(row["head"]["logins_per_s"]) / b
                row["head_vs_base_per_round"] = [h / x for h, x in zip(row["head"]["logins_per_s"],
                                                                       row["base"]["logins_per_s"])]
                if "shared" in row:
                    row["shared_vs_base"] = med(row["shared"]["logins_per_s"]) / b
                    row["shared_vs_head"] = med(row["shared"]["logins_per_s"]) / med(row["head"]["logins_per_s"])
                rows.append(row)
                print(f"  {scheme:6} {gname:52} base {b:8.0f}/s  HEAD {med(row['head']['logins_per_s']):8.0f}/s  "
                      f"HEAD/base {row['head_vs_base']:.2f}"
                      + (f"  shared_fs=yes {med(row['shared']['logins_per_s']):8.0f}/s ({row['shared_vs_base']:.2f})"
                         if "shared" in row else ""), flush=True)
    finally:
        for name, home in homes.items():
            if home is not None:
                subprocess.run(["usermod", "-d", home, name], capture_output=True)
    results["logins"] = rows
    results["logins_shape"] = {"users": users, "domains": domains, "logged_in_users": hashed,
                               "concurrency": a.concurrency, "seconds_per_run": a.seconds, "runs": a.runs}


# ---------------------------------------------------------------------------------------------


def report(a, results):
    L = []
    m = results["machine"]
    L.append(f"Base {results['builds']['base']['rev']} ({a.base_build}) vs HEAD {results['builds']['head']['rev']} "
             f"({a.build}); {m['date']}, {m['nproc']} cores ({m['model']}), load average "
             f"{m['loadavg_start']:.1f} at the start, {m.get('loadavg_end', 0):.1f} at the end")
    lk = results.get("lookups")
    if lk:
        L.append("")
        L.append(f"Store lookups without crypt (bench_lookup, one core; median of {a.runs} alternating runs "
                 f"of {a.min_time} s each; range = min-max of the runs; ns are wall-clock, cpu ns = thread CPU time)")
        L.append("| store | users | domains | base ns (range) | HEAD ns (range) | HEAD/base (per-round range) | "
                 "base cpu ns | HEAD cpu ns | HEAD/base cpu | first lookup us base / HEAD |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for r in lk:
            b, h = r["base"], r["head"]
            L.append(f"| {r['store']} | {r['users']} | {r['domains']} | {med(b['real_ns']):.0f} ({spread(b['real_ns'])}) | "
                     f"{med(h['real_ns']):.0f} ({spread(h['real_ns'])}) | {r['ratio_real']:.2f} "
                     f"({spread(r['ratio_real_per_round'], '{:.2f}')}) | {med(b['cpu_ns']):.0f} | {med(h['cpu_ns']):.0f} | "
                     f"{r['ratio_cpu']:.2f} | {med(b['first_lookup_us']):.0f} / {med(h['first_lookup_us']):.0f} |")
    lg = results.get("logins")
    if lg:
        s = results["logins_shape"]
        L.append("")
        L.append(f"Logins through Dovecot's auth-client socket ({s['users']} users in {s['domains']} domains, "
                 f"{s['logged_in_users']} logging in, {s['concurrency']} in flight; median of {s['runs']} x "
                 f"{s['seconds_per_run']} s per build, the builds' runs alternating; range = min-max; auth CPU = "
                 f"CPU time of the auth process and its workers per login, median)")
        L.append("| hash | passdb | base logins/s (range) | HEAD logins/s (range) | HEAD/base (per-round range) | "
                 "HEAD shared_fs=yes logins/s (range) | shared/base | p99 ms base / HEAD / shared | "
                 "auth CPU us/login base / HEAD / shared | failed |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for r in lg:
            b, h, sh = r["base"], r["head"], r.get("shared")
            p99 = f"{med(b['p99_ms']):.2f} / {med(h['p99_ms']):.2f}" + (f" / {med(sh['p99_ms']):.2f}" if sh else " / -")
            failed = b["failed"] + h["failed"] + (sh["failed"] if sh else 0)
            cpu = f"{med(b['auth_cpu_us']):.1f} / {med(h['auth_cpu_us']):.1f}" + (
                f" / {med(sh['auth_cpu_us']):.1f}" if sh else " / -")
            L.append(f"| {r['scheme']} | {r['config']} | {med(b['logins_per_s']):.0f} ({spread(b['logins_per_s'])}) | "
                     f"{med(h['logins_per_s']):.0f} ({spread(h['logins_per_s'])}) | {r['head_vs_base']:.2f} "
                     f"({spread(r['head_vs_base_per_round'], '{:.2f}')}) | "
                     + (f"{med(sh['logins_per_s']):.0f} ({spread(sh['logins_per_s'])}) | {r['shared_vs_base']:.2f} | "
                        if sh else "- | - | ")
                     + f"{p99} | {cpu} | {failed} |")
    rb.write_report(a.out, "\n".join(L), results)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-build", required=True, help="build directory of the baseline")
    p.add_argument("--build", required=True, help="build directory under test (HEAD)")
    p.add_argument("--out", required=True)
    p.add_argument("--work", default="/tmp/vstore-compare", help="stores and Dovecot work directories")
    p.add_argument("--keep-work", action="store_true")
    p.add_argument("--quick", action="store_true", help="stores up to 100k users, 1 s login runs")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, help="per login run (default 4, --quick 1)")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--users", type=int, default=20000)
    p.add_argument("--domains", type=int, default=10)
    p.add_argument("--hashed", type=int, default=2000, help="users with their own real hash (they log in)")
    p.add_argument("--schemes", help="login hashes (default des,md5,sha512; --quick des,md5)")
    p.add_argument("--skip-lookups", action="store_true")
    p.add_argument("--skip-logins", action="store_true")
    a = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: it starts Dovecot and creates the vmailmgr base users")
    a.base_build, a.build = os.path.abspath(a.base_build), os.path.abspath(a.build)
    a.out, a.work = os.path.abspath(a.out), os.path.abspath(a.work)
    a.seconds = a.seconds or (1.0 if a.quick else 4.0)
    a.warmup = 0.5 if a.quick else 1.5
    a.min_time = 0.2 if a.quick else 0.5
    a.max_users = 100000 if a.quick else 1000000
    a.schemes = a.schemes or ("des,md5" if a.quick else "des,md5,sha512")
    builds = {"base": a.base_build, "head": a.build}
    for key, b in builds.items():
        for t in ("bench/bench_lookup", "bench/gen_store", "bench/auth_load", "modules/auth"):
            if not os.path.exists(os.path.join(b, t)):
                sys.exit(f"{b}: no {t} (build the targets vstore_auth bench_lookup gen_store auth_load)")
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.work, exist_ok=True)
    os.chmod(a.work, 0o755)
    results = {"machine": {"nproc": os.cpu_count(), "cpu": platform.machine(),
                           "model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                          if l.startswith("model name")), "?"),
                           "date": time.strftime("%Y-%m-%d %H:%M"), "loadavg_start": os.getloadavg()[0]},
               "builds": {k: dict(zip(("rev", "source"), git_rev(b)), dir=b) for k, b in builds.items()},
               "command": " ".join(sys.argv)}
    t0 = time.time()
    try:
        if not a.skip_lookups:
            print("store lookups", flush=True)
            lookups(a, builds, results)
        if not a.skip_logins:
            print("logins", flush=True)
            logins(a, builds, results)
    finally:
        if not a.keep_work:
            shutil.rmtree(a.work, ignore_errors=True)
    results["machine"]["loadavg_end"] = os.getloadavg()[0]
    results["seconds"] = time.time() - t0
    report(a, results)
    print(f"\n({results['seconds']:.0f} s)")
    failed = sum(r[v]["failed"] for r in results.get("logins", []) for v in ("base", "head", "shared") if v in r)
    if failed:
        print(f"benchmark errors: {failed} failed logins")
        sys.exit(1)


if __name__ == "__main__":
    main()
