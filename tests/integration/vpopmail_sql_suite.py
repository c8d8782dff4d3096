"""vpopmail's MySQL backend against a real MariaDB started here: every vchkpw verdict of the
vpopmail-sql fixture through a real Dovecot with only driver and args (stock service settings),
the lastauth rows vchkpw writes, IMAP/POP3/CRAM-MD5 clients, doveadm user '*', logins that
try SQL, the server killed and started again under Dovecot, and the table-per-domain layout."""
import os
import time

from dovecot_harness import Dovecot, is_24
from mail_clients import imap_login, imap_cram_md5, pop3_login
from mariadb import MariaDB, install_fixture
import vpopmail_suite
from vpopmail_suite import replay_verdicts

ROOT = "/srv/vstore-fixtures"
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


def run(args, checks):
    with MariaDB(args.work + "-mariadb") as db:
        install_fixture(db, args.fixtures)
        with Dovecot(args.work, args.module_dir, db_config()) as dc, dc.checked(checks):
            after = lastauth_checker(db, checks)
            replay_verdicts(dc, args.fixtures, checks, store="vpopmail-sql", after_row=after)
            check_clients(dc, checks)
            check_iteration(dc, db, checks)
            check_hostile_logins(dc, checks)
            check_server_down(dc, db, checks)
        # the other place: workers on 2.3 (the default is the auth process), the auth process
        # on 2.4 (the default is workers)
        other = "blocking=no" if is_24() else "blocking=yes"
        with Dovecot(args.work + "-other", args.module_dir, db_config(ARGS + " " + other)) as dc, \
                dc.checked(checks, f"{other}: "):
            replay_verdicts(dc, args.fixtures, checks, label=f"{other}: ", store="vpopmail-sql")
        make_per_domain_tables(db)
        with Dovecot(args.work + "-perdomain", args.module_dir, db_config(ARGS + " many_domains=no")) as dc, \
                dc.checked(checks, "per-domain tables: "):
            replay_verdicts(dc, args.fixtures, checks, label="per-domain tables: ", store="vpopmail-sql")
            check_iteration_per_domain(dc, db, checks)
            check_unassigned_domain(dc, db, checks)
            check_read_only_and_missing_table(dc, db, checks)
        install_fixture(db, args.fixtures)


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
