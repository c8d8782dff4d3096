#!/usr/bin/env python3
"""vstore-auth benchmarks, one command: store lookups (Google Benchmark), start-up cost and
memory versus store size, and end-to-end logins through a real Dovecot comparing this
module's passdbs with Dovecot's passwd-file and checkpassword over the same users and hashes,
with and without the auth cache, plus the crypt ceiling (single-core crypt_r rate x nproc).
Every comparison is measured in the same run; figures are medians of --runs runs.

    python3 bench/run_bench.py --build build --out bench-results          # full (~15 min)
    python3 bench/run_bench.py --build build --out /tmp/smoke --smoke     # tiny sizes (~1 min)

Prints tables and writes results.json and results.csv to --out. Run as root (it starts
Dovecot and creates the vmailmgr base users vb0000.. for the generated store)."""

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from dovecot_harness import Dovecot  # noqa: E402

ROOT = "/tmp/vstore-bench"


def sh(*cmd, env=None, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    return r.stdout


def micro(a, results):
    env = dict(os.environ, VSTORE_BENCH_DIR=ROOT, VSTORE_BENCH_MAX_USERS="1000" if a.smoke else "1000000")
    out = sh(f"{a.build}/bench/bench_lookup", "--benchmark_format=json",
             f"--benchmark_min_time={0.05 if a.smoke else 0.5}", f"--benchmark_repetitions={1 if a.smoke else a.runs}",
             "--benchmark_report_aggregates_only=true" if not a.smoke else "--benchmark_report_aggregates_only=false",
             env=env)
    rows = []
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name", "median") != "median" or "items_per_second" not in b:
            continue
        name = b["run_name"] if "run_name" in b else b["name"]
        store = "vpopmail" if "Vpopmail" in name else "vmailmgr"
        users, domains = (int(x) for x in name.split("/")[1:3])
        rows.append({"store": store, "users": users, "domains": domains, "lookups_per_s": b["items_per_second"],
                     "ns_per_lookup": b["real_time"]})
    for r in rows:
        st = json.loads(sh(f"{a.build}/bench/bench_lookup", "--startup", r["store"], str(r["users"]), str(r["domains"]),
                           env=env))
        r.update({"first_lookup_us": st["first_lookup_us"], "rss_anon_kb": st["rss_anon_kb"],
                  "rss_anon_growth_kb": st["rss_anon_growth_kb"], "rss_file_kb": st["rss_file_kb"]})
    results["micro"] = rows


def ensure_base_users(domains, home_root):
    for d in range(domains):
        name = f"vb{d:04d}"
        home = f"{home_root}/{name}"
        if subprocess.run(["id", name], capture_output=True).returncode != 0:
            sh("useradd", "-r", "-M", "-d", home, "-s", "/usr/sbin/nologin", name)
        else:
            sh("usermod", "-d", home, name)


def make_stores(a, scheme, users, domains, hashed):
    base = f"{ROOT}/e2e"
    vp, vm = f"{base}/vpopmail", f"{base}/vmailmgr"
    for d in (vp, vm):
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(base, exist_ok=True)
    os.chmod(ROOT, 0o755)
    os.chmod(base, 0o755)
    gen = f"{a.build}/bench/gen_store"
    args = [str(users), str(domains), scheme, str(hashed)]
    sh(gen, "vpopmail", vp, *args)
    sh(gen, "vmailmgr", vm, *args)
    sh(gen, "passwd-file", vp, *args, f"{base}/users.passwd")
    ensure_base_users(domains, f"{vm}/home")
    # user directories for lastauth, as vadduser makes them
    for i in range(hashed):
        d = i % domains
        dom_dir = f"{vp}/vpopmail/domains/d{d:04d}.bench" if d < 99 else f"{vp}/vpopmail/domains/{(d - 99) // 100}/d{d:04d}.bench"
        os.makedirs(f"{dom_dir}/u{i:07d}", exist_ok=True)
    # the owners and modes a real site has: vpopmail's tree vpopmail's (users/cdb says uid 89),
    # each base user's home its own, the stores readable by their owners only
    if subprocess.run(["id", "vpopmail"], capture_output=True).returncode != 0:
        sh("useradd", "-r", "-u", "89", "-U", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", "vpopmail")
    sh("chown", "-R", "89:89", f"{vp}/vpopmail")
    sh("chmod", "-R", "go-rwx", f"{vp}/vpopmail/domains")
    for d in range(domains):
        name = f"vb{d:04d}"
        sh("chown", "-R", f"{name}:", f"{vm}/home/{name}")
        sh("chmod", "-R", "go-rwx", f"{vm}/home/{name}")
    logins = f"{base}/logins.txt"
    with open(logins, "w") as f:
        for i in range(hashed):
            f.write(f"u{i:07d}@d{i % domains:04d}.bench\tPw-{i}-bench\n")
    return vp, vm, f"{base}/users.passwd", logins


def passdb(driver, args):
    return f"passdb {{\n  driver = {driver}\n  args = {args}\n}}\n"


USERDB = "userdb {\n  driver = static\n  args = uid=89 gid=89 home=/nonexistent\n}\n"
CACHE = "auth_cache_size = 64M\nauth_cache_ttl = 1 hour\n"
# with workers, keep cached verifications on the workers too
CACHE_WORKERS = CACHE + "auth_cache_verify_password_with_worker = yes\n"
WORKERS_2N = f"auth_worker_max_count = {2 * os.cpu_count()}\n"
# Dovecot runs the checkpassword program as the auth process's user: it must read the 0600
# store (vchkpw sites make it setuid root, or run the auth process as vpopmail)
CHECKPASSWORD_AUTH = "service auth {\n  user = vpopmail\n}\n"


def configs(a, vp, vm, pwfile, scheme):
    vp_args = f"vpopmail_dir={vp}/vpopmail qmail_dir={vp}/qmail"
    vm_args = f"qmail_dir={vm}/qmail config_dir={vm}/etc"
    cp = f"{a.build}/bench/checkpassword_vstore vpopmail {vp_args} --"
    c = [
        # the shipped examples: driver and args only, stock service settings (the auth process
        # as dovecot reads the store through its store broker, lastauth at the default interval)
        ("vpopmail, example (default)", passdb("vpopmail", vp_args)),
        ("vmailmgr, example (default)", passdb("vmailmgr", vm_args)),
        ("vpopmail, in-process, no threads", passdb("vpopmail", vp_args + " lastauth=no verify_threads=0")),
        ("vpopmail, workers", passdb("vpopmail", vp_args + " blocking=yes")),
        ("vpopmail, workers, max 2 x nproc", passdb("vpopmail", vp_args + " blocking=yes") + WORKERS_2N),
        ("vmailmgr, workers", passdb("vmailmgr", vm_args + " blocking=yes")),
        ("passwd-file", passdb("passwd-file", f"scheme=CRYPT {pwfile}")),
        ("checkpassword", passdb("checkpassword", cp) + CHECKPASSWORD_AUTH),
        ("vpopmail, workers + cache", passdb("vpopmail", vp_args + " blocking=yes") + CACHE_WORKERS),
        ("passwd-file + cache", passdb("passwd-file", f"scheme=CRYPT {pwfile}") + CACHE),
    ]
    if scheme == "sha512" and not a.smoke:
        c = [x for x in c if "checkpassword" not in x[0]] + [("checkpassword", passdb("checkpassword", cp) +
                                                                CHECKPASSWORD_AUTH)]
    return c


def load(a, dc, logins, seconds):
    out = sh(f"{a.build}/bench/auth_load", dc.socket("auth-client"), logins,
             str(a.concurrency), str(seconds))
    return json.loads(out)


def crypt_rate(a, scheme):
    """Single-core crypt_r() verifications per second, measured now."""
    return json.loads(sh(f"{a.build}/bench/crypt_rate", scheme, "0.2" if a.smoke else "1"))["per_s"]


def e2e(a, results):
    schemes = a.schemes.split(",") if a.schemes else ["md5", "des"] if a.smoke else ["sha512", "md5", "des"]
    users, domains, hashed = (300, 2, 60) if a.smoke else (a.users, a.domains, a.hashed)
    rows, ceilings = [], {}
    nproc = os.cpu_count()
    for scheme in schemes:
        # The machine's speed drifts from minute to minute (shared cores), so the single-core
        # crypt rate is sampled just before every load run of this scheme, and the ceiling is
        # the median of those samples: it is measured under the same conditions as the logins.
        rates = []
        vp, vm, pwfile, logins = make_stores(a, scheme, users, domains, hashed)
        for name, conf in configs(a, vp, vm, pwfile, scheme):
            conf += USERDB
            work = f"{a.out}/dovecot-{scheme}-{len(rows)}"
            runs = []
            with Dovecot(work, f"{a.build}/modules/auth", conf, debug=False) as dc:
                load(a, dc, logins, 0.3 if a.smoke else 1.5)  # warm-up: workers started, files mapped
                for _ in range(a.runs):
                    rates.append(crypt_rate(a, scheme))
                    runs.append(load(a, dc, logins, a.seconds))
            med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
            row = {"scheme": scheme, "config": name, "logins_per_s": med("logins_per_s"), "p50_ms": med("p50_ms"),
                   "p99_ms": med("p99_ms"), "requests": sum(r["requests"] for r in runs),
                   "failed": sum(r["fail"] + r["tempfail"] for r in runs), "runs": [r["logins_per_s"] for r in runs]}
            rows.append(row)
            print(f"  {scheme:6} {name:30} {row['logins_per_s']:10.0f}/s  p50 {row['p50_ms']:.2f} ms  "
                  f"p99 {row['p99_ms']:.2f} ms  failed {row['failed']}", flush=True)
        rate = statistics.median(rates)
        ceilings[scheme] = {"single_core_per_s": rate, "nproc": nproc, "ceiling_per_s": rate * nproc,
                            "samples": len(rates), "single_core_min": min(rates), "single_core_max": max(rates)}
    results["e2e"] = rows
    results["crypt_ceiling"] = ceilings
    results["e2e_shape"] = {"users": users, "domains": domains, "logged_in_users": hashed,
                            "concurrency": a.concurrency, "seconds_per_run": a.seconds, "runs": a.runs}


def status_kb(pid, field):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def auth_processes(dc):
    """(pid, role) of the auth process, its store broker and its workers of this Dovecot instance."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline").read().split("\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith("/auth") and os.path.basename(os.path.dirname(cmd[0])).startswith(
                "dovecot-vstore-test-"):
            try:
                broker = open(f"/proc/{pid}/comm").read().strip() == "vstore-broker"
            except OSError:
                continue
            out.append((pid, "store broker" if broker else "worker" if "-w" in cmd else "auth"))
    return out


def memory(a, results):
    """RSS of the auth process and each worker after a load, for a small and a big store."""
    sizes = (100, 2000) if a.smoke else (1000, 1000000)
    rows = []
    for users in sizes:
        vp, vm, pwfile, logins = make_stores(a, "md5", users, 1 if users < 10000 else 10, min(users, a.hashed))
        conf = passdb("vpopmail", f"vpopmail_dir={vp}/vpopmail qmail_dir={vp}/qmail") + USERDB
        with Dovecot(f"{a.out}/dovecot-memory-{users}", f"{a.build}/modules/auth", conf, debug=False) as dc:
            load(a, dc, logins, 1 if a.smoke else 4)
            for pid, role in auth_processes(dc):
                rows.append({"users": users, "process": role, "pid": int(pid),
                             "rss_kb": status_kb(pid, "VmRSS:"), "rss_anon_kb": status_kb(pid, "RssAnon:"),
                             "rss_file_kb": status_kb(pid, "RssFile:")})
    results["memory"] = rows


def write_report(out, text, results):
    """Prints the tables and writes them (results.md) and the figures (results.json) to out;
    the other benchmark programs report the same way."""
    print("\n" + text)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)


def get(rows, scheme, config):
    return next((r for r in rows if r["scheme"] == scheme and r["config"] == config), None)


def report(a, results):
    lines = []
    m = results.get("micro", [])
    if m:
        lines.append("Store lookups without crypt (one core; parse + domain + user + decode)")
        lines.append("| store | users | domains | lookups/s | ns/lookup | first lookup (us) | RssAnon KiB (growth) | RssFile KiB |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for r in m:
            lines.append(f"| {r['store']} | {r['users']} | {r['domains']} | {r['lookups_per_s'] / 1e6:.2f}M | "
                         f"{r['ns_per_lookup']:.0f} | {r['first_lookup_us']:.0f} | {r['rss_anon_kb']} "
                         f"({r['rss_anon_growth_kb']:+d}) | {r['rss_file_kb']} |")
    e = results.get("e2e", [])
    if e:
        shape = results["e2e_shape"]
        lines.append("")
        lines.append(f"Logins through Dovecot's auth-client socket ({shape['users']} users in {shape['domains']} domains, "
                     f"{shape['logged_in_users']} logging in, {shape['concurrency']} in flight, median of {shape['runs']} "
                     f"x {shape['seconds_per_run']} s)")
        lines.append("| hash | passdb | logins/s | p50 ms | p99 ms | vs passwd-file | vs checkpassword |")
        lines.append("|---|---|---|---|---|---|---|")
        for r in e:
            pf = get(e, r["scheme"], "passwd-file + cache" if "cache" in r["config"] else "passwd-file")
            cp = get(e, r["scheme"], "checkpassword")
            lines.append(f"| {r['scheme']} | {r['config']} | {r['logins_per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                         f"{r['logins_per_s'] / pf['logins_per_s']:.2f}x | "
                         + (f"{r['logins_per_s'] / cp['logins_per_s']:.1f}x |" if cp else "- |"))
        lines.append("")
        lines.append(f"Password hashing on every core (nproc = {os.cpu_count()}; ceiling = single-core crypt_r rate x nproc, "
                     f"the rate being the median of {next(iter(results['crypt_ceiling'].values()))['samples']} samples "
                     f"taken before each load run of that hash)")
        lines.append("| hash | ceiling/s (single-core min-max) | passwd-file | example: auth process + broker, threads (p99 ms) | "
                     "in-process, no threads | workers (p99 ms) | example/ceiling | example/passwd-file | workers/ceiling | "
                     "workers/passwd-file |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|")
        for scheme, c in results["crypt_ceiling"].items():
            w = get(e, scheme, "vpopmail, workers")
            i = get(e, scheme, "vpopmail, example (default)")
            n = get(e, scheme, "vpopmail, in-process, no threads")
            p = get(e, scheme, "passwd-file")
            lines.append(f"| {scheme} | {c['ceiling_per_s']:.0f} ({c['single_core_min']:.0f}-{c['single_core_max']:.0f}) | "
                         f"{p['logins_per_s']:.0f} | "
                         f"{i['logins_per_s']:.0f} ({i['p99_ms']:.2f}) | {n['logins_per_s']:.0f} | "
                         f"{w['logins_per_s']:.0f} ({w['p99_ms']:.2f}) | "
                         f"{i['logins_per_s'] / c['ceiling_per_s']:.2f} | {i['logins_per_s'] / p['logins_per_s']:.2f} | "
                         f"{w['logins_per_s'] / c['ceiling_per_s']:.2f} | {w['logins_per_s'] / p['logins_per_s']:.2f} |")
    mem = results.get("memory", [])
    if mem:
        lines.append("")
        lines.append("Memory of Dovecot's auth processes after a login load (vpopmail, md5), by store size")
        lines.append("| store users | process | count | RSS KiB (median) | RssAnon KiB (median, max) | RssFile KiB (median) |")
        lines.append("|---|---|---|---|---|---|")
        groups = {}
        for r in mem:
            groups.setdefault((r["users"], r["process"]), []).append(r)
        for (users, proc), rs in sorted(groups.items()):
            med = lambda k: int(statistics.median(x[k] for x in rs))  # noqa: E731
            lines.append(f"| {users} | {proc} | {len(rs)} | {med('rss_kb')} | {med('rss_anon_kb')}, "
                         f"{max(x['rss_anon_kb'] for x in rs)} | {med('rss_file_kb')} |")
    write_report(a.out, "\n".join(lines), results)
    with open(os.path.join(a.out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kind", "store_or_hash", "config_or_users", "domains", "per_s", "p50_ms", "p99_ms"])
        for r in m:
            w.writerow(["lookup", r["store"], r["users"], r["domains"], round(r["lookups_per_s"]), "", ""])
        for r in e:
            w.writerow(["login", r["scheme"], r["config"], "", round(r["logins_per_s"]), r["p50_ms"], r["p99_ms"]])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", required=True)
    p.add_argument("--source", default=os.path.join(HERE, ".."))
    p.add_argument("--out", required=True)
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one short run: checks that everything works")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=4)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--users", type=int, default=20000)
    p.add_argument("--domains", type=int, default=10)
    p.add_argument("--hashed", type=int, default=2000, help="users with their own real hash (they log in)")
    p.add_argument("--schemes", help="comma-separated subset of sha512,md5,des for the login benchmarks")
    p.add_argument("--skip-micro", action="store_true")
    p.add_argument("--skip-e2e", action="store_true")
    a = p.parse_args()
    if a.smoke:
        a.runs, a.seconds = 1, 0.5
    a.build = os.path.abspath(a.build)
    a.out = os.path.abspath(a.out)
    os.makedirs(a.out, exist_ok=True)
    results = {"machine": {"nproc": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
                           "model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                          if l.startswith("model name")), "?"),
                           "date": time.strftime("%Y-%m-%d")}}
    if not a.skip_micro:
        micro(a, results)
    if not a.skip_e2e:
        e2e(a, results)
        memory(a, results)
    report(a, results)
    failed = sum(r["failed"] for r in results.get("e2e", []))
    bad_micro = [r for r in results.get("micro", []) if r["lookups_per_s"] <= 0]
    if failed or bad_micro:
        print(f"benchmark errors: {failed} failed logins")
        sys.exit(1)


if __name__ == "__main__":
    main()
