#!/usr/bin/env python3
"""vpopmail on MySQL: logins through a real Dovecot 2.3 with this module's vpopmail driver
(backend=mysql), with Dovecot's own sql passdb on the same table (a Mail-Toaster-6 style
password_query), and with the vpopmail driver on a cdb store of the same users, plus the crypt
ceiling (single-core crypt_r rate x nproc). Every figure is measured in the same run: for each
hash, one Dovecot per configuration runs at once and the load goes to each in turn, --runs
rounds of --seconds, so that the machine's noise hits all of them alike; figures are medians.
On a shared machine each run waits (up to --quiet-wait s) until other tenants use less than
--quiet-busy of the CPUs; the report says how many runs still started on a busy machine.

    python3 bench/sql_bench.py --build build --out DIR            # about 10 minutes, as root
    python3 bench/sql_bench.py --build build --out DIR --smoke    # tiny sizes, about 1 minute

What it sets up (below /tmp/vstore-sqlbench):
- a private MariaDB (tests/integration/mariadb.py, with MariaDB's default buffer pool and redo
  log sizes instead of its small test ones) with database vpopmail (utf8mb4) and
  vpopmail 5.6's tables vpopmail, limits, lastauth and aliasdomains (docs/formats.md part III),
  a read-only SQL user and a read-write one (INSERT, UPDATE, DELETE on lastauth);
- for each hash (MD5-crypt, SHA-512-crypt): a generated vpopmail store (bench/gen_store: qmail's
  users/cdb with uid/gid 89, every domain's vpasswd.cdb), and the same users, hashes and homes
  loaded into table vpopmail (rows read back from the vpasswd.cdb files), a limits row per
  domain, a lastauth row per user as vadduser leaves it, and ~vpopmail/etc/vpopmail.mysql
  (line 1 the read-only user, line 2 the read-write one; 0640 vpopmail) naming the socket;
- --logins users drawn at random, each logging in with its own password.

The configurations (only passdb driver/args, or the sql driver's connect and query; the auth
cache off; userdb static, which an auth-client login does not consult):
- sql driver: Dovecot's passdb sql with driver mysql (blocking, so it runs on auth workers),
  Mail-Toaster-6's password_query with pw_passwd as the password (default_pass_scheme CRYPT)
  and vpopmail's flags and domain limits checked in SQL; and Mail-Toaster-6's query as shipped
  (pw_clear_passwd, PLAIN: no hash verified at all; detail table only);
- vpopmail mysql: driver vpopmail, backend=mysql mysql_limits=yes, in the auth process (the
  default; the lookups of one ioloop round batched into one statement), verify_threads one per CPU; lastauth=no, so that it does the work the
  sql driver does (look up, verify); variants: verify_threads=0, blocking=yes (auth workers),
  lastauth_interval=0 (vchkpw's lastauth row written at every login: what real traffic, where a
  user logs in less than once a minute, costs) and the stock lastauth (at most once a minute
  per user and process: in this benchmark each user logs in every second or so, so the writes
  come in bursts of --logins when the minute is up, and the figure depends on where they fall);
- vpopmail cdb: the same users from vpasswd.cdb, lastauth=no too: in the auth process (the
  default: as dovecot, through the store broker) and on auth workers (blocking=yes);
- passwd-file: Dovecot's passwd-file with the same users and hashes (scheme=CRYPT).

Before every measured run the configuration gets a short warm-up (0.5 s): Dovecot stops auth
workers idle for a minute, and a round takes about that long.

Prints markdown tables (also results.md) and writes results.json to --out; the Dovecot work
directories (logs) stay in --out. Exits 1 if a login failed."""

import argparse
import contextlib
import os
import platform
import pwd
import random
import secrets
import shutil
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run_bench as rb  # noqa: E402  (also puts tests/integration on sys.path)
from compare_builds import auth_cpu, chown_tree  # noqa: E402
from dovecot_harness import Dovecot  # noqa: E402
import mariadb  # noqa: E402
from mariadb import MariaDB  # noqa: E402

# mariadb.py starts a test server "small and quick" (16 MB buffer pool, 16 MB redo log). Here it
# gets MariaDB's own defaults for those two (128 MB, 96 MB), as a packaged server has: with the
# small ones, 20000 users' lookups cost mysqld 60% more CPU and every lastauth write flushes
# about 4 pages (checkpoints of the small redo log).
SMALL_SERVER_OPTIONS = ("--innodb-buffer-pool-size=", "--innodb-log-file-size=")
mariadb._SERVER_OPTIONS = [o for o in mariadb._SERVER_OPTIONS if not o.startswith(SMALL_SERVER_OPTIONS)]

ROOT = "/tmp/vstore-sqlbench"
DB = "vpopmail"
RO_USER, RW_USER = "vpopmail_ro", "vpopmail_rw"
HZ = os.sysconf("SC_CLK_TCK")
VPOPMAIL_UID = 89

# vpopmail 5.6.13's tables (vmysql.h, as the tools create them in a utf8mb4 database; the
# fixture's dump.sql shows the same).
TABLES = """
CREATE TABLE vpopmail (
  pw_name varchar(64) NOT NULL,
  pw_domain varchar(96) NOT NULL,
  pw_passwd varchar(128) DEFAULT NULL,
  pw_uid int(11) DEFAULT NULL,
  pw_gid int(11) DEFAULT NULL,
  pw_gecos varchar(64) DEFAULT NULL,
  pw_dir varchar(160) DEFAULT NULL,
  pw_shell varchar(20) DEFAULT NULL,
  pw_clear_passwd varchar(128) DEFAULT NULL,
  PRIMARY KEY (pw_name, pw_domain)
);
CREATE TABLE lastauth (
  user varchar(32) NOT NULL,
  domain varchar(96) NOT NULL,
  remote_ip varchar(39) NOT NULL,
  timestamp int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (user, domain)
);
CREATE TABLE limits (
  domain varchar(96) NOT NULL,
  maxpopaccounts int(10) NOT NULL DEFAULT -1,
  maxaliases int(10) NOT NULL DEFAULT -1,
  maxforwards int(10) NOT NULL DEFAULT -1,
  maxautoresponders int(10) NOT NULL DEFAULT -1,
  maxmailinglists int(10) NOT NULL DEFAULT -1,
  diskquota bigint(20) unsigned NOT NULL DEFAULT 0,
  maxmsgcount bigint(20) unsigned NOT NULL DEFAULT 0,
  defaultquota bigint(20) unsigned NOT NULL DEFAULT 0,
  defaultmaxmsgcount bigint(20) unsigned NOT NULL DEFAULT 0,
  disable_pop tinyint(1) NOT NULL DEFAULT 0,
  disable_imap tinyint(1) NOT NULL DEFAULT 0,
  disable_dialup tinyint(1) NOT NULL DEFAULT 0,
  disable_passwordchanging tinyint(1) NOT NULL DEFAULT 0,
  disable_webmail tinyint(1) NOT NULL DEFAULT 0,
  disable_relay tinyint(1) NOT NULL DEFAULT 0,
  disable_smtp tinyint(1) NOT NULL DEFAULT 0,
  disable_spamassassin tinyint(1) NOT NULL DEFAULT 0,
  delete_spam tinyint(1) NOT NULL DEFAULT 0,
  disable_maildrop tinyint(1) NOT NULL DEFAULT 0,
  perm_account tinyint(2) NOT NULL DEFAULT 0,
  perm_alias tinyint(2) NOT NULL DEFAULT 0,
  perm_forward tinyint(2) NOT NULL DEFAULT 0,
  perm_autoresponder tinyint(2) NOT NULL DEFAULT 0,
  perm_maillist tinyint(4) NOT NULL DEFAULT 0,
  perm_quota tinyint(2) NOT NULL DEFAULT 0,
  perm_defaultquota tinyint(2) NOT NULL DEFAULT 0,
  PRIMARY KEY (domain)
);
CREATE TABLE aliasdomains (
  alias varchar(100) NOT NULL,
  domain varchar(100) NOT NULL,
  PRIMARY KEY (alias)
);
"""

# Mail-Toaster-6's password_query (provision/dovecot.sh: user, the userdb fields for prefetch,
# alias domains through table aliasdomains, NO_POP/NO_IMAP from pw_gid), with the hash instead
# of the clear column and vchkpw's checks by service instead of by port (the load gives no
# port): NO_POP, NO_IMAP, NO_SMTP, and the domain's limits row unless V_OVERRIDE.
MT6_CRYPT_QUERY = (
    "SELECT CONCAT(v.pw_name, '@', v.pw_domain) AS user, v.pw_passwd AS password, "
    "v.pw_dir AS userdb_home, 89 AS userdb_uid, 89 AS userdb_gid, "
    "CONCAT('*:bytes=', REPLACE(SUBSTRING_INDEX(v.pw_shell, 'S', 1), 'NOQUOTA', '0')) AS userdb_quota_rule "
    "FROM vpopmail v LEFT JOIN aliasdomains a ON a.alias = '%d' LEFT JOIN limits l ON l.domain = v.pw_domain "
    "WHERE v.pw_name = '%n' AND (v.pw_domain = '%d' OR v.pw_domain = a.domain) "
    "AND ('%s' != 'pop3' OR NOT ((v.pw_gid & 2) OR ((v.pw_gid & 8192) = 0 AND COALESCE(l.disable_pop, 0)))) "
    "AND ('%s' != 'imap' OR NOT ((v.pw_gid & 8) OR ((v.pw_gid & 8192) = 0 AND COALESCE(l.disable_imap, 0)))) "
    "AND ('%s' != 'smtp' OR NOT ((v.pw_gid & 2048) OR ((v.pw_gid & 8192) = 0 AND COALESCE(l.disable_smtp, 0))))")

# Mail-Toaster-6's query as it ships: the clear column, PLAIN (no hash is verified).
MT6_SHIPPED_QUERY = (
    "SELECT CONCAT(v.pw_name, '@', v.pw_domain) AS user, v.pw_clear_passwd AS password, "
    "v.pw_dir AS userdb_home, 89 AS userdb_uid, 89 AS userdb_gid, "
    "CONCAT('*:bytes=', REPLACE(SUBSTRING_INDEX(v.pw_shell, 'S', 1), 'NOQUOTA', '0')) AS userdb_quota_rule "
    "FROM vpopmail v LEFT JOIN aliasdomains a ON a.alias = '%d' "
    "WHERE v.pw_name = '%n' AND (v.pw_domain = '%d' OR v.pw_domain = a.domain) "
    "AND ('%a' != '995' OR NOT (v.pw_gid & 2)) AND ('%a' != '993' OR NOT (v.pw_gid & 8))")

# Row keys of the main table.
SQL_DRIVER = "sql driver, MT6 query (CRYPT)"
SQL_SHIPPED = "sql driver, MT6 query as shipped (pw_clear_passwd, PLAIN)"
VP_MYSQL = "vpopmail mysql, in-process, threads, lastauth=no"
VP_MYSQL_NOTHREADS = "vpopmail mysql, verify_threads=0, lastauth=no"
VP_MYSQL_WORKERS = "vpopmail mysql, blocking=yes (workers), lastauth=no"
VP_MYSQL_LASTAUTH0 = "vpopmail mysql, lastauth at every login (lastauth_interval=0)"
VP_MYSQL_STOCK = "vpopmail mysql, stock lastauth (once a minute per user)"
VP_CDB_INPROC = "vpopmail cdb, in-process (auth process + store broker), lastauth=no"
VP_CDB_WORKERS = "vpopmail cdb, workers (blocking=yes), lastauth=no"
PASSWD_FILE = "passwd-file (the same users and hashes)"


# ---------------------------------------------------------------------------------------------
# the store and the database


def read_cdb(path):
    """Every (key, value) of a cdb file, in the order they were added."""
    with open(path, "rb") as f:
        data = f.read()
    end = min((p for p, n in (struct.unpack_from("<II", data, 8 * i) for i in range(256)) if n), default=2048)
    pos, out = 2048, []
    while pos < end:
        klen, vlen = struct.unpack_from("<II", data, pos)
        pos += 8
        out.append((data[pos:pos + klen], data[pos + klen:pos + klen + vlen]))
        pos += klen + vlen
    return out


def domain_name(d):
    return f"d{d:04d}.bench"


def domain_dir(vp, d):
    # gen_store's layout (vpopmail's big dirs: the first 99 domains directly below domains/)
    base = f"{vp}/vpopmail/domains"
    return f"{base}/{domain_name(d)}" if d < 99 else f"{base}/{(d - 99) // 100}/{domain_name(d)}"


def password(i, hashed):
    # bench_store.cc: users below HASHED have their own hash; the others share that of
    # "shared-" + password(0)
    return f"Pw-{i}-bench" if i < hashed else "shared-Pw-0-bench"


def ensure_vpopmail_account():
    """vpopmail:vchkpw 89:89, as tests/fixtures/install.sh makes them."""
    if subprocess.run(["getent", "group", "vchkpw"], capture_output=True).returncode != 0:
        rb.sh("groupadd", "-g", "89", "vchkpw")
    try:
        pwd.getpwnam("vpopmail")
    except KeyError:
        rb.sh("useradd", "-r", "-u", "89", "-g", "89", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", "vpopmail")


def setup_database(db, ro_pass, rw_pass):
    db.sql("SET GLOBAL max_connections = 1000")  # sql driver and blocking=yes: a connection per worker
    db.sql(f"DROP DATABASE IF EXISTS {DB}; CREATE DATABASE {DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    db.sql(TABLES, db=DB)
    for h in ("localhost", "%"):
        db.sql(f"CREATE USER '{RO_USER}'@'{h}' IDENTIFIED BY '{ro_pass}'; "
               f"GRANT SELECT ON {DB}.* TO '{RO_USER}'@'{h}'; "
               f"CREATE USER '{RW_USER}'@'{h}' IDENTIFIED BY '{rw_pass}'; "
               f"GRANT SELECT ON {DB}.* TO '{RW_USER}'@'{h}'; "
               f"GRANT INSERT, UPDATE, DELETE ON {DB}.lastauth TO '{RW_USER}'@'{h}'")


def make_store(a, db, scheme, ro_pass, rw_pass):
    """gen_store's vpopmail store for scheme, the same users in table vpopmail, the connection
    file, the user directories (lastauth files of the cdb rows) and the logins file."""
    vp = f"{ROOT}/store-{scheme}"
    shutil.rmtree(vp, ignore_errors=True)
    os.makedirs(ROOT, exist_ok=True)
    os.chmod(ROOT, 0o755)
    rb.sh(f"{a.build}/bench/gen_store", "vpopmail", vp, str(a.users), str(a.domains), scheme, str(a.hashed))
    rows = []
    for d in range(a.domains):
        for key, value in read_cdb(f"{domain_dir(vp, d)}/vpasswd.cdb"):
            name = key.decode()
            passwd, _uid, gid, gecos, home, shell = value.decode().split(":")
            i = int(name[1:])
            # pw_uid 0: the MySQL tools' vauth_adduser writes USE_POP (formats.md III.3)
            rows.append((name, domain_name(d), passwd, "0", gid, gecos, home, shell, password(i, a.hashed)))
            os.makedirs(home, exist_ok=True)
    if len(rows) != a.users:
        raise RuntimeError(f"read {len(rows)} users back from the vpasswd.cdb files, expected {a.users}")
    tsv = f"{ROOT}/vpopmail-{scheme}.tsv"
    with open(tsv, "w") as f:
        for r in rows:
            f.write("\t".join(r) + "\n")
    with open(passwd_file(scheme), "w") as f:
        for r in rows:
            f.write(f"{r[0]}@{r[1]}:{r[2]}\n")
    now = int(time.time())
    db.sql(f"TRUNCATE vpopmail; TRUNCATE lastauth; TRUNCATE limits; "
           f"LOAD DATA INFILE '{tsv}' INTO TABLE vpopmail FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n'; "
           # vadduser's lastauth row, remote_ip 0.0.0.0 (formats.md III.7)
           f"INSERT INTO lastauth SELECT pw_name, pw_domain, '0.0.0.0', {now} FROM vpopmail; "
           # a limits row per domain that disables nothing (vmoddomlimits); the drivers join it
           + "".join(f"INSERT INTO limits (domain) VALUES ('{domain_name(d)}'); " for d in range(a.domains))
           + "ANALYZE TABLE vpopmail, limits, lastauth", db=DB)
    got = int(db.sql("SELECT COUNT(*) FROM vpopmail", db=DB))
    if got != a.users:
        raise RuntimeError(f"table vpopmail has {got} rows, expected {a.users}")
    conf = f"{vp}/vpopmail/etc/vpopmail.mysql"
    with open(conf, "w") as f:
        f.write(f"localhost|{db.socket}|{RO_USER}|{ro_pass}|{DB}\n")
        f.write(f"localhost|{db.socket}|{RW_USER}|{rw_pass}|{DB}\n")
    # the owners a real site has: the vpopmail tree vpopmail's, users/cdb root's
    chown_tree(f"{vp}/vpopmail", VPOPMAIL_UID, VPOPMAIL_UID)
    os.chmod(conf, 0o640)
    rng = random.Random(f"sql-bench-{scheme}")
    logins = f"{ROOT}/logins-{scheme}.txt"
    with open(logins, "w") as f:
        for i in rng.sample(range(a.users), min(a.logins, a.users)):
            f.write(f"u{i:07d}@{domain_name(i % a.domains)}\t{password(i, a.hashed)}\n")
    return vp, logins


# ---------------------------------------------------------------------------------------------
# configurations


def passwd_file(scheme):
    return f"{ROOT}/users-{scheme}.passwd"


def sql_conf_file(scheme, name, db, ro_pass, query, pass_scheme):
    path = f"{ROOT}/dovecot-sql-{scheme}-{name}.conf.ext"
    with open(path, "w") as f:
        f.write(f"driver = mysql\nconnect = host={db.socket} dbname={DB} user={RO_USER} password={ro_pass}\n"
                f"default_pass_scheme = {pass_scheme}\npassword_query = {query}\n")
    os.chmod(path, 0o600)
    return path


def configs(a, scheme, vp, db, ro_pass):
    vp_args = f"vpopmail_dir={vp}/vpopmail qmail_dir={vp}/qmail"
    my_args = vp_args + " backend=mysql mysql_limits=yes"
    p = rb.passdb
    c = [
        (SQL_DRIVER, p("sql", sql_conf_file(scheme, "crypt", db, ro_pass, MT6_CRYPT_QUERY, "CRYPT"))),
        (VP_MYSQL, p("vpopmail", my_args + " lastauth=no")),
        (VP_CDB_INPROC, p("vpopmail", vp_args + " lastauth=no")),
        (VP_CDB_WORKERS, p("vpopmail", vp_args + " blocking=yes lastauth=no")),
        (PASSWD_FILE, p("passwd-file", f"scheme=CRYPT {passwd_file(scheme)}")),
        (VP_MYSQL_LASTAUTH0, p("vpopmail", my_args + " lastauth_interval=0")),
        (VP_MYSQL_STOCK, p("vpopmail", my_args)),
        (VP_MYSQL_NOTHREADS, p("vpopmail", my_args + " lastauth=no verify_threads=0")),
        (VP_MYSQL_WORKERS, p("vpopmail", my_args + " lastauth=no blocking=yes")),
        (SQL_SHIPPED, p("sql", sql_conf_file(scheme, "plain", db, ro_pass, MT6_SHIPPED_QUERY, "PLAIN"))),
    ]
    return [(name, conf + rb.USERDB) for name, conf in c]


# ---------------------------------------------------------------------------------------------
# measuring


def proc_cpu(pid):
    """utime + stime of a process (all threads), in seconds."""
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / HZ
    except OSError:
        return 0.0


def measured_load(a, dc, db, logins, seconds):
    """One load run, with the CPU time per login of this Dovecot's auth processes and of the
    MariaDB server (which serves only this Dovecot while the load runs)."""
    c0, m0 = auth_cpu(dc), proc_cpu(db.proc.pid)
    r = rb.load(a, dc, logins, seconds)
    c1, m1 = auth_cpu(dc), proc_cpu(db.proc.pid)
    n = max(r["requests"], 1)
    r["auth_cpu_us"] = sum(t - c0.get(pid, 0.0) for pid, t in c1.items()) / n * 1e6
    r["mysqld_cpu_us"] = (m1 - m0) / n * 1e6
    return r


def worker_count(dc):
    """How many auth worker processes this Dovecot has (0: every lookup ran in the auth process)."""
    n = 0
    for pid, role in rb.auth_processes(dc):
        try:
            parent = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        n += role == "worker" and parent == dc.proc.pid
    return n


def busy_fraction(seconds=0.3):
    """The share of the machine's CPU time used (by anything) over the next `seconds`."""
    def sample():
        f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return sum(f), f[3] + f[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


def wait_quiet(a):
    """Before a run: wait (at most --quiet-wait seconds) until the machine is quiet, that is
    until other tenants use less than --quiet-busy of its CPU (this benchmark's own processes
    are idle between runs). Returns (seconds waited, busy fraction at the start of the run)."""
    t0 = time.time()
    busy = busy_fraction()
    while busy > a.quiet_busy and time.time() - t0 < a.quiet_wait:
        time.sleep(1)
        busy = busy_fraction()
    return time.time() - t0, busy


def log_problems(dc):
    """Error, Warning, Fatal and Panic lines of a Dovecot's log."""
    out = []
    for path in (dc.log, dc.log + ".stderr"):
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                out += [l.rstrip("\n") for l in f if any(k in l for k in ("Error:", "Warning:", "Fatal:", "Panic:"))]
    return out


def bench_scheme(a, db, scheme, ro_pass, rw_pass):
    t0 = time.time()
    vp, logins = make_store(a, db, scheme, ro_pass, rw_pass)
    print(f"  {scheme}: store and table of {a.users} users in {a.domains} domains ready ({time.time() - t0:.0f} s)",
          flush=True)
    confs = configs(a, scheme, vp, db, ro_pass)
    runs = {name: [] for name, _ in confs}
    rates, problems, warm, workers = [], {}, {}, {}
    with contextlib.ExitStack() as stack:
        dcs = {}
        for k, (name, conf) in enumerate(confs):
            dcs[name] = stack.enter_context(
                Dovecot(f"{a.out}/dovecot-{scheme}-{k}", f"{a.build}/modules/auth", conf, debug=False))
        for name, _ in confs:  # workers started, connections open, files read
            w = rb.load(a, dcs[name], logins, a.warmup)
            warm[name] = w
            if w["fail"] + w["tempfail"]:
                print(f"  {scheme} {name}: {w['fail']} failed, {w['tempfail']} temporary failures in the warm-up; "
                      f"log:\n{dcs[name].tail(15)}", flush=True)
        for rnd in range(a.runs):
            for name, _ in confs:
                waited, busy = wait_quiet(a)
                rb.load(a, dcs[name], logins, a.rewarm)
                rates.append(rb.crypt_rate(a, scheme))
                r = measured_load(a, dcs[name], db, logins, a.seconds)
                r.update(quiet_wait_s=round(waited, 1), busy_before=round(busy, 2))
                runs[name].append(r)
            print(f"  {scheme}: round {rnd + 1}/{a.runs} done", flush=True)
        for name, _ in confs:
            problems[name] = log_problems(dcs[name])
            workers[name] = worker_count(dcs[name])
    lastauth_rows = int(db.sql("SELECT COUNT(*) FROM lastauth WHERE remote_ip = '127.0.0.2'", db=DB))
    rows = []
    for name, _ in confs:
        rs = runs[name]
        med = lambda k: statistics.median(r[k] for r in rs)  # noqa: E731
        row = {"scheme": scheme, "config": name, "logins_per_s": med("logins_per_s"), "p50_ms": med("p50_ms"),
               "p99_ms": med("p99_ms"), "auth_cpu_us": med("auth_cpu_us"), "mysqld_cpu_us": med("mysqld_cpu_us"),
               "runs": [r["logins_per_s"] for r in rs], "requests": sum(r["requests"] for r in rs),
               "busy_before": [r["busy_before"] for r in rs], "quiet_wait_s": [r["quiet_wait_s"] for r in rs],
               "failed": sum(r["fail"] + r["tempfail"] for r in rs),
               "warmup_failed": warm[name]["fail"] + warm[name]["tempfail"], "auth_workers": workers[name],
               "log_problems": len(problems[name]), "log_problem_lines": problems[name][:20]}
        rows.append(row)
        print(f"  {scheme:6} {name:58} {row['logins_per_s']:8.0f}/s  p99 {row['p99_ms']:6.2f} ms  auth CPU "
              f"{row['auth_cpu_us']:6.0f} us  mysqld CPU {row['mysqld_cpu_us']:5.0f} us  workers {row['auth_workers']:2}  "
              f"failed {row['failed']}  "
              f"log problems {row['log_problems']}", flush=True)
    rate = statistics.median(rates)
    ceiling = {"single_core_per_s": rate, "nproc": os.cpu_count(), "ceiling_per_s": rate * os.cpu_count(),
               "samples": len(rates), "single_core_min": min(rates), "single_core_max": max(rates)}
    per_round = {}
    for name, _ in confs:
        for other in (SQL_DRIVER, VP_CDB_INPROC):
            per_round[f"{name} / {other}"] = [x["logins_per_s"] / y["logins_per_s"]
                                              for x, y in zip(runs[name], runs[other])]
    return rows, ceiling, {"lastauth_rows_written_by_the_load": lastauth_rows, "ratios_per_round": per_round,
                           "seconds": time.time() - t0}


# ---------------------------------------------------------------------------------------------
# the report


def get(rows, scheme, config):
    return next(r for r in rows if r["scheme"] == scheme and r["config"] == config)


def report(a, results):
    rows, L = results["logins"], []
    s = results["shape"]
    m = results["machine"]
    L.append(f"{m['date']}, {m['nproc']} cores ({m['model']}), Dovecot {m['dovecot']}, MariaDB {m['mariadb']} "
             f"(buffer pool {m['innodb_buffer_pool_mb']} MB, redo log {m['innodb_log_file_mb']} MB, "
             f"innodb_flush_log_at_trx_commit = {m['innodb_flush_log_at_trx_commit']}); "
             f"{s['users']} users in {s['domains']} domains, {s['logins']} of them logging in (random), "
             f"{s['concurrency']} in flight; median of {s['runs']} rounds x {s['seconds_per_run']} s, the "
             f"configurations' runs alternating; ceiling = single-core crypt_r rate (median of the samples taken "
             f"before every run) x nproc")
    busy = [b for r in rows for b in r["busy_before"]]
    L.append(f"(runs that started with other tenants using more than {a.quiet_busy:.0%} of the CPUs after "
             f"waiting up to {a.quiet_wait:.0f} s: {sum(b > a.quiet_busy for b in busy)} of {len(busy)})")
    L.append("")
    L.append("The vpopmail columns without lastauth writes (lastauth=no: the work the sql driver does); "
             "\"+ lastauth\": vpopmail mysql writing vchkpw's lastauth row at every login (lastauth_interval=0).")
    L.append("")
    L.append("| hash | ceiling/s | sql driver (MT6 query) logins/s (p99 ms) | vpopmail mysql logins/s (p99 ms) | "
             "vpopmail mysql + lastauth (p99 ms) | vpopmail cdb in-process (p99 ms) | vpopmail cdb workers (p99 ms) | "
             "passwd-file (p99 ms) | mysql/ceiling | mysql/sql-driver | mysql/cdb-in-process | mysql/passwd-file |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for scheme, c in results["crypt_ceiling"].items():
        sq, my, la, ci, cw, pf = (get(rows, scheme, k) for k in (SQL_DRIVER, VP_MYSQL, VP_MYSQL_LASTAUTH0,
                                                                  VP_CDB_INPROC, VP_CDB_WORKERS, PASSWD_FILE))
        f = lambda r: f"{r['logins_per_s']:.0f} ({r['p99_ms']:.2f})"  # noqa: E731
        L.append(f"| {scheme} | {c['ceiling_per_s']:.0f} | {f(sq)} | {f(my)} | {f(la)} | {f(ci)} | {f(cw)} | {f(pf)} | "
                 f"{my['logins_per_s'] / c['ceiling_per_s']:.2f} | {my['logins_per_s'] / sq['logins_per_s']:.2f} | "
                 f"{my['logins_per_s'] / ci['logins_per_s']:.2f} | {my['logins_per_s'] / pf['logins_per_s']:.2f} |")
    L.append("")
    L.append("Every configuration (range = min-max of the rounds; CPU = CPU time per login of the Dovecot's auth "
             "process and workers, and of the MariaDB server, medians; workers = auth worker processes at the end; log = "
             "Error/Warning lines in its log)")
    L.append("| hash | passdb | logins/s (range) | p50 ms | p99 ms | vs sql driver | vs cdb in-process | "
             "auth CPU us | mysqld CPU us | workers | failed | log |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        sq, ci = get(rows, r["scheme"], SQL_DRIVER), get(rows, r["scheme"], VP_CDB_INPROC)
        L.append(f"| {r['scheme']} | {r['config']} | {r['logins_per_s']:.0f} ({min(r['runs']):.0f}-{max(r['runs']):.0f}) | "
                 f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['logins_per_s'] / sq['logins_per_s']:.2f} | "
                 f"{r['logins_per_s'] / ci['logins_per_s']:.2f} | {r['auth_cpu_us']:.0f} | {r['mysqld_cpu_us']:.0f} | "
                 f"{r['auth_workers']} | "
                 f"{r['failed'] + r['warmup_failed']} | {r['log_problems']} |")
    rb.write_report(a.out, "\n".join(L), results)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one short round: checks that everything works")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--quiet-busy", type=float, default=0.25,
                   help="before each run, wait while other tenants use more than this share of the CPUs")
    p.add_argument("--quiet-wait", type=float, default=20, help="... but at most this many seconds")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--users", type=int, default=20000)
    p.add_argument("--domains", type=int, default=20)
    p.add_argument("--hashed", type=int, help="users with their own hash (default: all; the others share one)")
    p.add_argument("--logins", type=int, default=2000, help="users drawn at random to log in")
    p.add_argument("--schemes", default="md5,sha512", help="comma-separated subset of md5,sha512,des")
    p.add_argument("--innodb-flush-log-at-trx-commit", type=int, choices=(0, 1, 2),
                   help="set the server's innodb_flush_log_at_trx_commit (default: the server's, 1: every commit "
                        "is flushed to disk, as on a stock server; 2 shows what the lastauth writes cost without the flush)")
    a = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: it starts MariaDB and Dovecot and chowns the store to vpopmail")
    if a.smoke:
        a.runs, a.seconds, a.users, a.domains, a.logins, a.quiet_wait = 1, 0.5, 200, 4, 100, 0
    a.hashed = a.users if a.hashed is None else min(a.hashed, a.users)
    a.warmup, a.rewarm = (0.3, 0.1) if a.smoke else (1.5, 0.5)
    a.build, a.out = os.path.abspath(a.build), os.path.abspath(a.out)
    for t in ("bench/gen_store", "bench/auth_load", "bench/crypt_rate", "modules/auth"):
        if not os.path.exists(os.path.join(a.build, t)):
            sys.exit(f"{a.build}: no {t}")
    os.makedirs(a.out, exist_ok=True)
    ensure_vpopmail_account()
    t0 = time.time()
    results = {"machine": {"nproc": os.cpu_count(), "cpu": platform.machine(),
                           "model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                          if l.startswith("model name")), "?"),
                           "date": time.strftime("%Y-%m-%d %H:%M"), "loadavg_start": os.getloadavg()[0],
                           "dovecot": rb.sh("dovecot", "--version").split()[0]},
               "command": " ".join(sys.argv),
               "shape": {"users": a.users, "domains": a.domains, "hashed": a.hashed, "logins": a.logins,
                         "concurrency": a.concurrency, "seconds_per_run": a.seconds, "runs": a.runs},
               "queries": {"sql_driver": MT6_CRYPT_QUERY, "sql_driver_shipped": MT6_SHIPPED_QUERY},
               "logins": [], "crypt_ceiling": {}, "per_scheme": {}}
    ro_pass, rw_pass = secrets.token_hex(12), secrets.token_hex(12)
    with MariaDB(f"{ROOT}/mariadb") as db:
        results["machine"]["mariadb"] = db.sql("SELECT VERSION()").strip()
        setup_database(db, ro_pass, rw_pass)
        if a.innodb_flush_log_at_trx_commit is not None:
            db.sql(f"SET GLOBAL innodb_flush_log_at_trx_commit = {a.innodb_flush_log_at_trx_commit}")
        v = db.sql("SELECT @@GLOBAL.innodb_flush_log_at_trx_commit, @@GLOBAL.innodb_buffer_pool_size, "
                   "@@GLOBAL.innodb_log_file_size").split()
        results["machine"].update(innodb_flush_log_at_trx_commit=int(v[0]), innodb_buffer_pool_mb=int(v[1]) >> 20,
                                  innodb_log_file_mb=int(v[2]) >> 20)
        print(f"MariaDB {results['machine']['mariadb']} on {db.socket} ({time.time() - t0:.0f} s)", flush=True)
        for scheme in a.schemes.split(","):
            rows, ceiling, extra = bench_scheme(a, db, scheme, ro_pass, rw_pass)
            results["logins"] += rows
            results["crypt_ceiling"][scheme] = ceiling
            results["per_scheme"][scheme] = extra
        results["mysqld_log_problems"] = [l for l in db.tail(200).splitlines() if "[ERROR]" in l or "[Warning]" in l]
    results["machine"]["loadavg_end"] = os.getloadavg()[0]
    results["seconds"] = time.time() - t0
    report(a, results)
    print(f"\n({results['seconds']:.0f} s; load average {results['machine']['loadavg_start']:.1f} at the start, "
          f"{results['machine']['loadavg_end']:.1f} at the end)")
    failed = sum(r["failed"] + r["warmup_failed"] for r in results["logins"])
    if failed:
        print(f"benchmark errors: {failed} failed logins")
        sys.exit(1)


if __name__ == "__main__":
    main()
