#!/usr/bin/env python3
"""Smoke test of the MariaDB test server (mariadb.py) and the vpopmail-sql fixture installer.
Run by hand, as root:

    python3 tests/integration/mariadb_smoke.py [--work DIR] [--fixtures tests/fixtures]

Starts a private MariaDB, installs the vpopmail-sql store into it and into
/srv/vstore-fixtures (under the fixtures lock), checks the tables against dump.sql, the SQL
users' rights, etc/vpopmail.mysql and the homes the verdicts name, then kills the server with
SIGKILL, starts it again on the same datadir and checks that the data, including a row written
just before the kill, is still there. Prints the time each step took."""

import argparse
import collections
import json
import os
import re
import stat
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from checks import Checks  # noqa: E402
from fixtures import fixtures_lock  # noqa: E402
from mariadb import MariaDB, install_fixture  # noqa: E402

DEFAULT_FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
from fixtures import ROOT  # noqa: E402
DB = "vpopmail_dev"
RO = ("vpopmail_dev_ro", "Dev-ro-pw-1")
RW = ("vpopmail_dev_rw", "Dev-rw-pw-1")


def dump_row_counts(path):
    """Rows per table in dump.sql (mysqldump --skip-extended-insert: one INSERT per row)."""
    counts = collections.Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"INSERT INTO `([^`]+)` VALUES", line)
            if m:
                counts[m.group(1)] += 1
    return counts


def table_counts(db):
    out = db.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
                 db=DB)
    return {t: int(db.sql(f"SELECT COUNT(*) FROM `{t}`", db=DB)) for t in out.split()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", help="work directory (default: a new one under /tmp)")
    p.add_argument("--fixtures", default=DEFAULT_FIXTURES)
    args = p.parse_args()
    if os.geteuid() != 0:
        print("needs root (mariadbd --user=root, fixture accounts, /srv/vstore-fixtures)")
        sys.exit(1)
    work = args.work or tempfile.mkdtemp(prefix="vstore-mariadb-")
    data = os.path.join(os.path.abspath(args.fixtures), "vpopmail-sql")
    checks = Checks("mariadb smoke")
    timings = []

    def timed(label, fn, *a, **kw):
        t = time.monotonic()
        r = fn(*a, **kw)
        timings.append((label, time.monotonic() - t))
        return r

    dump = dump_row_counts(os.path.join(data, "dump.sql"))
    with open(os.path.join(data, "verdicts.jsonl"), encoding="utf-8") as f:
        verdicts = [json.loads(line) for line in f]

    db = MariaDB(os.path.join(work, "mariadb"))
    try:
        timed("start: mariadb-install-db + mariadbd until it answers", db.start)
        print(f"server: {db.socket}, 127.0.0.1:{db.port}, datadir {db.datadir}")
        version = db.sql("SELECT VERSION()").strip()
        print(f"version: {version}")

        # --- install, and look at the installed files while no one else can change them
        t = time.monotonic()
        with fixtures_lock():
            timings.append(("waiting for the fixtures lock (other test runs)", time.monotonic() - t))
            out = timed("install_fixture (install.sh vpopmail-sql --socket)", install_fixture, db, args.fixtures)
            timings.append(("start + install (without the lock wait)", timings[0][1] + timings[-1][1]))
            print(out.strip())
            conf = os.path.join(ROOT, "vpopmail-sql", "etc", "vpopmail.mysql")
            with open(conf) as f:
                lines = f.read().splitlines()
            want = [f"localhost|{db.socket}|{RO[0]}|{RO[1]}|{DB}", f"localhost|{db.socket}|{RW[0]}|{RW[1]}|{DB}"]
            checks.check("etc/vpopmail.mysql: line 1 ro, line 2 rw, for this socket", lines == want,
                         f"got {lines}, want {want}")
            st = os.stat(conf)
            checks.check("etc/vpopmail.mysql is vpopmail:vchkpw 0640",
                         (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (89, 89, 0o640),
                         f"uid {st.st_uid} gid {st.st_gid} mode {oct(stat.S_IMODE(st.st_mode))}")
            homes = sorted({v["expected"]["home"] for v in verdicts if v["ok"]})
            missing = [h for h in homes if not os.path.isdir(os.path.join(h, "Maildir", "cur"))]
            checks.check(f"the {len(homes)} homes of the ok verdicts have Maildir/cur", not missing,
                         f"missing: {missing[:3]}")

        # --- the tables
        count = int(db.sql(f"SELECT COUNT(*) FROM {DB}.vpopmail"))
        print(f"SELECT COUNT(*) FROM {DB}.vpopmail: {count} (dump.sql: {dump['vpopmail']})")
        checks.check("vpopmail rows = dump.sql's", count == dump["vpopmail"] > 0)
        got = table_counts(db)
        checks.check("every table of dump.sql, with its row count", got == {t: dump.get(t, 0) for t in got}
                     and set(dump) <= set(got), f"server {got}, dump {dict(dump)}")
        checks.check("database is utf8mb4 / utf8mb4_general_ci",
                     db.sql("SELECT @@character_set_database, @@collation_database", db=DB).split()
                     == ["utf8mb4", "utf8mb4_general_ci"])
        bad = []
        for v in verdicts:
            if v["ok"]:
                q = db.sql(f"SELECT pw_shell FROM vpopmail WHERE pw_dir = '{v['expected']['home']}'", db=DB).split("\n")[0]
                if q != v["expected"]["quota"]:
                    bad.append((v["login"], q, v["expected"]["quota"]))
        checks.check("each ok verdict's home is a pw_dir with the verdict's quota (pw_shell)", not bad, str(bad[:3]))
        gecos = db.sql("SELECT pw_gecos FROM vpopmail WHERE pw_name = 'rosa'", db=DB).strip()
        checks.check("UTF-8 survives the load (rosa's gecos)", gecos == "Rosa Müller", repr(gecos))

        # --- the SQL users, over the socket ('localhost') and over TCP ('%')
        for tcp in (False, True):
            via = "tcp" if tcp else "socket"
            r = db.client("SELECT COUNT(*) FROM vpopmail", db=DB, user=RO[0], password=RO[1], tcp=tcp)
            checks.check(f"ro ({via}) can SELECT", r.returncode == 0 and r.stdout.strip() == str(count), r.stderr)
            for stmt in ("REPLACE INTO lastauth SET user='anna', domain='sqlmail.test', remote_ip='127.0.0.9', timestamp=1",
                         "UPDATE vpopmail SET pw_gecos = 'x' WHERE pw_name = 'anna'",
                         "DELETE FROM lastauth"):
                r = db.client(stmt, db=DB, user=RO[0], password=RO[1], tcp=tcp)
                checks.check(f"ro ({via}) cannot write: {stmt.split()[0]}", r.returncode != 0 and "denied" in r.stderr,
                             f"rc {r.returncode} {r.stderr.strip()}")
            r = db.client("SELECT pw_passwd FROM vpopmail WHERE pw_name = 'anna'", db=DB, user=RO[0],
                          password="wrong", tcp=tcp)
            checks.check(f"ro ({via}) with a wrong password is refused", r.returncode != 0 and "denied" in r.stderr)
            stamp = 1900000000 + int(tcp)
            r = db.client("REPLACE INTO lastauth SET user='anna', domain='sqlmail.test', "
                          f"remote_ip='127.0.0.2', timestamp={stamp}", db=DB, user=RW[0], password=RW[1], tcp=tcp)
            checks.check(f"rw ({via}) can REPLACE INTO lastauth", r.returncode == 0, r.stderr)
            for stmt in ("UPDATE vpopmail SET pw_gecos = 'x' WHERE pw_name = 'anna'",
                         "INSERT INTO valias (alias, domain, valias_line) VALUES ('a', 'b', 'c')",
                         "DROP TABLE lastauth"):
                r = db.client(stmt, db=DB, user=RW[0], password=RW[1], tcp=tcp)
                checks.check(f"rw ({via}) cannot: {' '.join(stmt.split()[:2])}", r.returncode != 0 and "denied" in r.stderr,
                             f"rc {r.returncode} {r.stderr.strip()}")
        row = db.sql("SELECT remote_ip, timestamp FROM lastauth WHERE user='anna' AND domain='sqlmail.test'", db=DB).split()
        checks.check("lastauth holds the rw user's last REPLACE", row == ["127.0.0.2", "1900000001"], str(row))
        checks.check("REPLACE kept one row per (user, domain)",
                     int(db.sql("SELECT COUNT(*) FROM lastauth", db=DB)) == dump["lastauth"])

        # --- crash and recovery
        timed("kill -9", db.kill)
        checks.check("after kill -9 the server is gone", not db.running and db.client("SELECT 1").returncode != 0)
        timed("restart on the same datadir (crash recovery)", db.start)
        checks.check("after the restart: vpopmail rows unchanged",
                     int(db.sql(f"SELECT COUNT(*) FROM {DB}.vpopmail")) == dump["vpopmail"])
        row = db.sql("SELECT remote_ip, timestamp FROM lastauth WHERE user='anna' AND domain='sqlmail.test'", db=DB).split()
        checks.check("after the restart: the last committed lastauth write is there", row == ["127.0.0.2", "1900000001"], str(row))
        r = db.client("SELECT COUNT(*) FROM vpopmail", db=DB, user=RO[0], password=RO[1])
        checks.check("after the restart: the ro user still logs in", r.returncode == 0 and r.stdout.strip() == str(count), r.stderr)
        timed("stop (SIGTERM, clean shutdown)", db.stop)
        checks.check("stop: no mariadbd left", db.proc is None)
    finally:
        db.stop()

    # --- the context manager stops its server when the block raises
    pid = None
    try:
        with MariaDB(os.path.join(work, "mariadb-raise")) as other:
            pid = other.proc.pid
            raise KeyError("on purpose")
    except KeyError:
        pass
    checks.check("with MariaDB(...) stops the server when the block raises",
                 pid is not None and not os.path.exists(f"/proc/{pid}"))

    for label, secs in timings:
        print(f"  {secs:6.2f} s  {label}")
    checks.finish()


if __name__ == "__main__":
    main()
