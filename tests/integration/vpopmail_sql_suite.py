"""vpopmail's MySQL backend against a real MariaDB started here: every vchkpw verdict of the
vpopmail-sql fixture through a real Dovecot with only driver and args (stock service settings),
the lastauth rows vchkpw writes, IMAP/POP3/CRAM-MD5 clients, doveadm user '*', logins that
try SQL, the server killed and started again under Dovecot, and the table-per-domain layout."""
import json
import os
import subprocess
import time

from dovecot_harness import Dovecot
from auth_client import AuthClient
from mail_clients import imap_login, imap_cram_md5, pop3_login
from mariadb import MariaDB, install_fixture
import vpopmail_suite
from vpopmail_suite import replay_verdicts

from fixtures import ROOT  # noqa: E402
DB = "vpopmail_dev"
ARGS = (f"vpopmail_dir={ROOT}/vpopmail-sql qmail_dir={ROOT}/qmail-sql webmail_ips=127.0.0.1 "
        f"backend=mysql mysql_limits=yes lastauth_interval=0")
REAL_DOMAINS = ("sqlmail.test", "limited.test", "bulk.test")


def db_config(args=ARGS):
    # Only driver and args (vpopmail_suite's), and CRAM-MD5 for the clear column.
    return "auth_mechanisms = plain login cram-md5\n" + vpopmail_suite.db_config(args)


def lastauth_row(db, user, domain):
    out = db.sql(f"SELECT remote_ip, timestamp FROM lastauth WHERE user = '{user}' AND domain = '{domain}'", db=DB)
    return tuple(out.split()) if out.strip() else None


def lastauth_checker(db, checks):
    """after_row for replay_verdicts: a successful login writes vchkpw's row (after the reply,
    so it is waited for), a refused one writes nothing."""
    def after(n, row, result):
        want = row.get("lastauth")
        if want is None:
            return
        if want["written"]:
            deadline = time.time() + 5
            got = None
            while time.time() < deadline:
                got = lastauth_row(db, want["user"], want["domain"])
                if got and got[0] == want["remote_ip"] and int(got[1]) >= after.start:
                    break
                time.sleep(0.05)
            checks.check(f"lastauth row {n}: {want['user']}@{want['domain']} from {want['remote_ip']}",
                         got is not None and got[0] == want["remote_ip"] and int(got[1]) >= after.start,
                         f"row {got}, login result {result}")
        else:
            user, domain = row["login"].lower().split("@")
            time.sleep(0.3)
            got = lastauth_row(db, user, domain)
            checks.check(f"lastauth row {n}: a refused login writes nothing",
                         got is None or int(got[1]) < after.start, f"row {got}")
    after.start = int(time.time())
    return after


def check_clients(dc, checks):
    for user, pw in (("anna@sqlmail.test", "Anna-sql1"), ("gus@sqlmail.test", "Gus-sql7")):
        ok, detail, _ = imap_login(dc.imap_port, user, pw)
        checks.check(f"IMAP LOGIN {user}", ok, detail)
    ok, detail, _ = pop3_login(dc.pop3_port, "uma@limited.test", "Uma-lim1")
    checks.check("POP3 uma@limited.test (limits refuse imap, not pop3)", ok, detail)
    ok, detail, _ = imap_login(dc.imap_port, "uma@limited.test", "Uma-lim1")
    checks.check("IMAP uma@limited.test is refused (limits row: disable_imap)", not ok, detail)
    # the clear column serves CRAM-MD5, as it serves vchkpw's authcram
    ok, detail = imap_cram_md5(dc.imap_port, "anna@sqlmail.test", "Anna-sql1")
    checks.check("IMAP AUTHENTICATE CRAM-MD5 anna@sqlmail.test (pw_clear_passwd)", ok, detail)
    ok, detail = imap_cram_md5(dc.imap_port, "anna@sqlmail.test", "wrong")
    checks.check("CRAM-MD5 with a wrong password is refused", not ok, detail)


def check_iteration(dc, db, checks):
    r = dc.doveadm("user", "*", timeout=120)
    listed = set(r.stdout.split())
    want = set()
    for domain in REAL_DOMAINS:
        want |= {f"{u}@{domain}" for u in db.sql(f"SELECT pw_name FROM vpopmail WHERE pw_domain = '{domain}'",
                                                   db=DB).split()}
    checks.check("doveadm user '*' exits 0", r.returncode == 0, r.stderr[-2000:])
    checks.check(f"doveadm user '*' lists every user of every real domain ({len(want)})", listed == want,
                 f"missing {sorted(want - listed)[:10]}, extra {sorted(listed - want)[:10]}")


def check_hostile_logins(dc, checks):
    """Values reach SQL only bound by Dovecot's SQL layer: such logins are refused or looked up
    literally, never another row."""
    for login in ("anna'@sqlmail.test", "anna\\@sqlmail.test", "an%@sqlmail.test", "an_a@sqlmail.test",
                  "anna' OR '1'='1@sqlmail.test", "anna@sqlmail.test' OR '1'='1", "%@sqlmail.test",
                  "anna\"@sqlmail.test", "anna;--@sqlmail.test"):
        result, out = dc.auth_test(login, "Anna-sql1", "imap", "127.0.0.2")
        checks.check(f"hostile login {login!r} does not log in", result == "fail", out[-500:])
    log = dc.log_text()
    checks.check("no hostile login reached an SQL error", "You have an error in your SQL syntax" not in log,
                 "\n".join(l for l in log.splitlines() if "SQL syntax" in l)[:2000])


def check_server_down(dc, db, checks):
    """The server killed: temporary failures, never "wrong password"; started again: logins
    work without restarting Dovecot."""
    result, out = dc.auth_test("anna@sqlmail.test", "Anna-sql1", "imap", "127.0.0.2")
    checks.check("before the kill: anna logs in", result == "ok", out)
    db.kill()
    results = []
    for _ in range(3):
        t0 = time.time()
        result, out = dc.auth_test("anna@sqlmail.test", "Anna-sql1", "imap", "127.0.0.2")
        results.append((result, round(time.time() - t0, 2)))
    checks.check("server down: every login is a temporary failure", all(r == "tempfail" for r, _ in results),
                 f"{results}\n{dc.tail(15)}")
    checks.check("server down: the fault is logged with the server's reason",
                 dc.wait_for_log("MySQL query for anna@sqlmail.test failed"), dc.tail(15))
    db.start()
    ok = False
    for _ in range(60):
        result, out = dc.auth_test("anna@sqlmail.test", "Anna-sql1", "imap", "127.0.0.2")
        if result == "ok":
            ok = True
            break
        time.sleep(0.5)
    checks.check("server back: logins work again without restarting Dovecot", ok, out)


def make_per_domain_tables(db):
    """The table-per-domain layout (--disable-many-domains) from the fixture's rows: one table
    per real domain, named as vauth_munch_domain names it, with vpopmail's columns but
    pw_domain."""
    for domain in REAL_DOMAINS:
        table = domain.replace(".", "_").replace("-", "_")
        db.sql(f"DROP TABLE IF EXISTS `{table}`; "
               f"CREATE TABLE `{table}` (pw_name VARCHAR(64) NOT NULL, pw_passwd VARCHAR(128), pw_uid INT, "
               f"pw_gid INT, pw_gecos VARCHAR(64), pw_dir VARCHAR(160), pw_shell VARCHAR(20), "
               f"pw_clear_passwd VARCHAR(128), PRIMARY KEY (pw_name)); "
               f"INSERT INTO `{table}` SELECT pw_name, pw_passwd, pw_uid, pw_gid, pw_gecos, pw_dir, pw_shell, "
               f"pw_clear_passwd FROM vpopmail WHERE pw_domain = '{domain}'", db=DB)
    # the one-table layout's table is not read any more: take it away
    db.sql("RENAME TABLE vpopmail TO vpopmail_unused", db=DB)


def vstore_path(args):
    """The vstore of this build (next to its vstore-mysql.so), or the installed one when the
    suite tests the installed package (the Debian 13 root)."""
    if os.environ.get("VSTORE_MODULE_INSTALLED"):
        return "/usr/bin/vstore"
    return os.path.abspath(os.path.join(args.module_dir, "..", "..", "tools", "vstore", "vstore"))


def vstore(args, *words, stdin=None):
    return subprocess.run([vstore_path(args), *words], input=stdin, capture_output=True, text=True, timeout=120)


def lastauth_rows(db):
    return db.sql("SELECT user, domain, remote_ip, timestamp FROM lastauth ORDER BY user, domain", db=DB)


def check_vstore_lookup(args, db, checks, label="", driver_args=ARGS):
    """Every vchkpw verdict through `vstore lookup vpopmail backend=mysql`: the verdict, the
    exit code's kind, and the home; lookups never write lastauth."""
    rows = [json.loads(l) for l in open(os.path.join(args.fixtures, "vpopmail-sql", "verdicts.jsonl"))]
    before = lastauth_rows(db)
    agreed = 0
    for n, row in enumerate(rows, 1):
        r = vstore(args, "lookup", "vpopmail", *driver_args.split(), row["login"], "--service", row["service"],
                   "--rip", row["remote_ip"], "--password-stdin", stdin=row["password"] + "\n")
        problems = []
        if row["ok"]:
            if r.returncode != 0:
                problems.append(f"exit {r.returncode}, want 0")
            else:
                home = row["expected"]["home"]
                if f", dir {home}, " not in r.stdout:
                    problems.append(f"home {home} not in the record line")
        elif r.returncode not in (1, 2):
            problems.append(f"exit {r.returncode}, want 1 or 2")
        agreed += not problems
        checks.check(f"{label}vstore lookup row {n} ({row['why'][:60]})", not problems,
                     "; ".join(problems) + f"\n{r.stdout}{r.stderr}")
    print(f"{label}vstore lookup vpopmail backend=mysql: agreed {agreed}/{len(rows)}")
    checks.check(f"{label}vstore lookup writes no lastauth row", lastauth_rows(db) == before)
    r = vstore(args, "lookup", "vpopmail", *driver_args.split(), "uma@limited.test", "--service", "imap",
               "--rip", "127.0.0.2", "--password-stdin", stdin="Uma-lim1\n")
    print(f"$ vstore lookup vpopmail {driver_args} uma@limited.test --service imap --rip 127.0.0.2 "
          f"--password-stdin\n{r.stdout}(exit {r.returncode})\n")
    checks.check(f"{label}vstore lookup prints the MySQL steps and the limits refusal",
                 r.returncode == 1 and "store:" in r.stdout and "MySQL, table" in r.stdout and "record:" in r.stdout
                 and "NO_IMAP" in r.stdout, r.stdout + r.stderr)


def sql_users(db, per_domain=False):
    users = set()
    for domain in REAL_DOMAINS:
        q = (f"SELECT pw_name FROM `{domain.replace('.', '_')}`" if per_domain
             else f"SELECT pw_name FROM vpopmail WHERE pw_domain = '{domain}'")
        users |= {f"{u}@{domain}" for u in db.sql(q, db=DB).split()}
    return users


def check_vstore_check_export(args, db, checks, label="", driver_args=ARGS, per_domain=False):
    """check scans every user of the SQL store (the fixture's are all sound: no error);
    export prints every user that can log in, like for a cdb store."""
    want = sql_users(db, per_domain)
    r = vstore(args, "check", "vpopmail", *driver_args.split())
    errors = [l for l in r.stdout.splitlines() if l.startswith("error:")]
    summary = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    print(f"{label}$ vstore check vpopmail {driver_args}\n{r.stdout}{r.stderr}(exit {r.returncode})")
    checks.check(f"{label}vstore check on the SQL store: exit 0, no error", r.returncode == 0 and not errors,
                 r.stdout + r.stderr)
    checks.check(f"{label}vstore check scans every user ({len(want)})",
                 f"{len(REAL_DOMAINS)} domains, {len(want)} users checked" in summary, summary)
    r = vstore(args, "export", "vpopmail", *driver_args.split(), "--format", "passwd-file")
    exported = {l.split(":", 1)[0] for l in r.stdout.splitlines()}
    skipped = {l.split()[2].rstrip(":") for l in r.stderr.splitlines() if l.startswith("vstore: skipped ")}
    checks.check(f"{label}vstore export on the SQL store exits 0", r.returncode == 0, r.stderr)
    checks.check(f"{label}vstore export: every user exported or skipped with its reason",
                 exported | skipped == want and not exported & skipped,
                 f"missing {sorted(want - exported - skipped)[:10]}, extra {sorted((exported | skipped) - want)[:10]}"
                 f"\n{r.stderr[-2000:]}")
    line = next((l for l in r.stdout.splitlines() if l.startswith("anna@sqlmail.test:")), "")
    checks.check(f"{label}vstore export: anna's line has her hash, uid/gid and home",
                 ":89:89::/srv/vstore-fixtures/vpopmail-sql/domains/sqlmail.test/anna::" in line
                 and line.split(":")[1].startswith("{CRYPT}$6$"), line)
    sql = vstore(args, "export", "vpopmail", *driver_args.split(), "--format", "sql")
    checks.check(f"{label}vstore export --format sql on the SQL store",
                 sql.returncode == 0 and sql.stdout.count("INSERT INTO") == len(exported), sql.stderr[-2000:])


def check_vstore_check_damage(args, db, checks):
    """Rows that would make a login fail are errors of vstore check (exit 1), named by user."""
    db.sql("UPDATE vpopmail SET pw_dir = 'relative/finn' WHERE pw_name = 'finn' AND pw_domain = 'sqlmail.test'; "
           "UPDATE vpopmail SET pw_passwd = '' WHERE pw_name = 'b002' AND pw_domain = 'bulk.test'", db=DB)
    try:
        r = vstore(args, "check", "vpopmail", *ARGS.split())
        errors = [l for l in r.stdout.splitlines() if l.startswith("error:")]
        print(f"$ vstore check vpopmail ... (two damaged rows)\n{r.stdout}(exit {r.returncode})")
        checks.check("vstore check on damaged rows: exit 1", r.returncode == 1, r.stdout + r.stderr)
        checks.check("vstore check: a relative pw_dir is an error of finn",
                     any(l.startswith("error: finn@sqlmail.test:") and "not an absolute path" in l for l in errors),
                     r.stdout)
        checks.check("vstore check: an empty pw_passwd is an error of b002",
                     any(l.startswith("error: b002@bulk.test:") and "no password" in l for l in errors), r.stdout)
        checks.check("vstore check: nothing else is an error", len(errors) == 2, r.stdout)
    finally:
        install_fixture(db, args.fixtures)


def check_vstore_dead_server(args, db, checks):
    """The server killed: lookup, check and export are temporary failures (75) with the reason."""
    db.kill()
    try:
        t0 = time.time()
        r = vstore(args, "lookup", "vpopmail", *ARGS.split(), "anna@sqlmail.test", "--password-stdin",
                   stdin="Anna-sql1\n")
        print(f"$ vstore lookup vpopmail ... anna@sqlmail.test (server down)\n{r.stdout}{r.stderr}"
              f"(exit {r.returncode}, {time.time() - t0:.1f} s)\n")
        checks.check("server down: vstore lookup exits 75", r.returncode == 75, r.stdout + r.stderr)
        checks.check("server down: vstore lookup says why",
                     "temporary failure: store fault: MySQL query for anna@sqlmail.test failed" in r.stdout,
                     r.stdout + r.stderr)
        r = vstore(args, "check", "vpopmail", *ARGS.split())
        checks.check("server down: vstore check exits 75 with the reason",
                     r.returncode == 75 and "MySQL" in r.stderr, r.stdout + r.stderr)
        r = vstore(args, "export", "vpopmail", *ARGS.split(), "--format", "passwd-file")
        checks.check("server down: vstore export exits 75 with the reason",
                     r.returncode == 75 and "MySQL" in r.stderr and not r.stdout, r.stdout + r.stderr)
    finally:
        db.start()


# run_store.py --only NAME runs one of them; all share one MariaDB
SCENARIOS = ["vstore", "verdicts", "batched", "clients", "iteration", "hostile_logins", "server_down", "workers",
             "per_domain"]


def run(args, checks):
    with MariaDB(args.work + "-mariadb") as db:
        install_fixture(db, args.fixtures)
        if checks.scenario("vstore"):
            check_vstore_lookup(args, db, checks)
            check_vstore_check_export(args, db, checks)
            check_vstore_check_damage(args, db, checks)
            check_vstore_dead_server(args, db, checks)
        if checks.any_scenario("verdicts", "batched", "clients", "iteration", "hostile_logins", "server_down"):
            with Dovecot(args.work, args.module_dir, db_config()) as dc, dc.checked(checks):
                if checks.scenario("verdicts"):
                    after = lastauth_checker(db, checks)
                    replay_verdicts(dc, args.fixtures, checks, store="vpopmail-sql", after_row=after)
                if checks.scenario("batched"):
                    check_batched(dc, db, args.fixtures, checks)
                if checks.scenario("clients"):
                    check_clients(dc, checks)
                if checks.scenario("iteration"):
                    check_iteration(dc, db, checks)
                if checks.scenario("hostile_logins"):
                    check_hostile_logins(dc, checks)
                if checks.scenario("server_down"):
                    check_server_down(dc, db, checks)
        # the other place: the auth workers (the default is the auth process)
        other = "blocking=yes"
        if checks.scenario("workers"):
            with Dovecot(args.work + "-other", args.module_dir, db_config(ARGS + " " + other)) as dc, \
                    dc.checked(checks, f"{other}: "):
                replay_verdicts(dc, args.fixtures, checks, label=f"{other}: ", store="vpopmail-sql")
        if checks.scenario("per_domain"):
            make_per_domain_tables(db)
            per_domain = ARGS + " many_domains=no"
            check_vstore_lookup(args, db, checks, "per-domain tables: ", per_domain)
            check_vstore_check_export(args, db, checks, "per-domain tables: ", per_domain, per_domain=True)
            with Dovecot(args.work + "-perdomain", args.module_dir, db_config(ARGS + " many_domains=no")) as dc, \
                    dc.checked(checks, "per-domain tables: "):
                replay_verdicts(dc, args.fixtures, checks, label="per-domain tables: ", store="vpopmail-sql")
                check_batched(dc, db, args.fixtures, checks, "per-domain tables: ")
                check_iteration_per_domain(dc, db, checks)
                check_unassigned_domain(dc, db, checks)
                dc.args = args
                check_read_only_and_missing_table(dc, db, checks)
        install_fixture(db, args.fixtures)


def check_batched(dc, db, fixtures, checks, label=""):
    """Every verdict row at once on one auth-client connection, as a busy login process sends
    them: the lookups of one ioloop round go to the server together (a UNION ALL of each one's
    own query), and each login still gets vchkpw's verdict."""
    rows = [json.loads(l) for l in open(os.path.join(fixtures, "vpopmail-sql", "verdicts.jsonl"))]
    selects = lambda: int(db.sql("SHOW GLOBAL STATUS LIKE 'Com_select'").split()[-1])  # noqa: E731
    before = selects()
    client = AuthClient(dc.socket("auth-client"))
    ids = {client.send_plain(r["login"], r["password"], service=r["service"], rip=r["remote_ip"]): r for r in rows}
    results = {}
    for _ in rows:
        rid, result, _fields = client.read_result()
        results[rid] = result
    client.close()
    queries = selects() - before
    wrong = [f"{r['login']} {r['service']} {r['remote_ip']}: {results.get(i)}" for i, r in ids.items()
             if results.get(i) != ("ok" if r["ok"] else "fail")]
    checks.check(f"{label}{len(rows)} logins at once on one connection: every vchkpw verdict", not wrong,
                 "; ".join(wrong[:10]))
    checks.check(f"{label}... in fewer queries than logins (lookups of one round batched)", 0 < queries < len(rows) // 2,
                 f"{queries} SELECTs for {len(rows)} logins")
    print(f"{label}{len(rows)} pipelined logins: {queries} SELECT statements")


def check_iteration_per_domain(dc, db, checks):
    r = dc.doveadm("user", "*", timeout=120)
    listed = set(r.stdout.split())
    want = set()
    for domain in REAL_DOMAINS:
        table = domain.replace(".", "_")
        want |= {f"{u}@{domain}" for u in db.sql(f"SELECT pw_name FROM `{table}`", db=DB).split()}
    checks.check(f"per-domain tables: doveadm user '*' lists every user ({len(want)})", listed == want,
                 f"missing {sorted(want - listed)[:10]}, extra {sorted(listed - want)[:10]}")


def check_unassigned_domain(dc, db, checks):
    """vchkpw with a table per domain queries a table for a domain users/cdb does not know,
    and runs the next program as uid 0 when it answers: refused here."""
    db.sql("CREATE TABLE `unassigned_test` LIKE `sqlmail_test`; "
           "INSERT INTO `unassigned_test` SELECT * FROM `sqlmail_test` WHERE pw_name = 'anna'", db=DB)
    result, out = dc.auth_test("anna@unassigned.test", "Anna-sql1", "imap", "127.0.0.2")
    checks.check("a domain not in users/cdb is refused even when a table of its name answers", result == "fail",
                 out)
    checks.check("the refusal says the domain is not in users/cdb", dc.wait_for_log("domain unassigned.test is not in"),
                 dc.tail(10))


def check_read_only_and_missing_table(dc, db, checks):
    """A read-only server still answers logins (only the lastauth write fails, a Warning); a
    domain whose table is gone is a temporary failure, never a wrong password."""
    db.sql("SET GLOBAL read_only = 1")
    try:
        result, out = dc.auth_test("finn@sqlmail.test", "Finn-sql6", "imap", "127.0.0.2")
        checks.check("read-only server: logins still work", result == "ok", out)
        checks.check("read-only server: the lastauth write fails with a Warning",
                     dc.wait_for_log("cannot update lastauth of finn@sqlmail.test"), dc.tail(10))
    finally:
        db.sql("SET GLOBAL read_only = 0")
    db.sql("DROP TABLE `bulk_test`", db=DB)
    result, out = dc.auth_test("b001@bulk.test", "Bulk-pw-001", "imap", "127.0.0.2")
    checks.check("a missing table is a temporary failure", result == "tempfail", out)
    checks.check("the missing table is logged", dc.wait_for_log("bulk_test' doesn't exist"), dc.tail(10))
    r = vstore(dc.args, "lookup", "vpopmail", *(ARGS + " many_domains=no").split(), "b001@bulk.test",
               "--password-stdin", stdin="Bulk-pw-001\n")
    checks.check("a missing table: vstore lookup exits 75 with the server's reason",
                 r.returncode == 75 and "bulk_test' doesn't exist" in r.stdout, r.stdout + r.stderr)
