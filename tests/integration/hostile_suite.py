"""Hostile logins against a real Dovecot (sent raw over the auth-client protocol): each is
refused, nothing crashes, and no file whose path contains any part of the login is opened
(strace -f of every Dovecot process, every file syscall)."""

import os
import re

from auth_client import AuthClient
from dovecot_harness import Dovecot
import vmailmgr_suite
import vpopmail_suite
import fixtures  # noqa: E402

MARK = "zzhostile"
LOGINS = [
    f"../{MARK}@example.com",
    f"{MARK}/../../etc/passwd@example.com",
    f"alice@../../{MARK}",
    f"alice@{MARK}/../../etc",
    f"/{MARK}",
    f"alice@/{MARK}/x",
    f"../../../../{MARK}",
    f"{MARK}\ttab@example.com",
    f"{MARK}\r\nx@example.com",
    f"{MARK}\n@example.org",
    "a" * 10240 + f"{MARK}@example.com",
    f"alice@{MARK}" + "b" * 10240,
    f"@{MARK}.example.com",
    f"{MARK}@",
    f"{MARK}:",
    f"j\u00f6hn{MARK}@example.org",
    f"\u00c5{MARK}@\u00e9xample.com",
    f"{MARK}%x@y/z@w",
    f"{MARK}@x%y/z",
    f"%{MARK}%",
    f"exorg-../{MARK}@example.invalid",
    f"vm-info-{MARK}@example.biz",
]


def run_one(args, checks, store, db_config, good):
    trace = os.path.join(args.work + f"-hostile-{store}", "..", f"hostile-{store}.strace")
    trace = os.path.abspath(trace)
    with Dovecot(args.work + f"-hostile-{store}", args.module_dir, db_config, strace=trace) as dc, \
            dc.checked(checks, f"{store}: no sanitizer reports"):
        client = AuthClient(dc.socket("auth-client"))
        for login in LOGINS:
            result = client.login(login, "Alice-pw1")
            checks.check(f"{store}: hostile login {login[:40]!r} is refused", result == "fail", result)
        checks.check(f"{store}: the auth process still serves a good login", client.login(*good) == "ok")
        client.close()
        crashed = [l for l in dc.log_text().splitlines() if "Fatal" in l or "killed with signal" in l]
        checks.check(f"{store}: no process died", not crashed, "\n".join(crashed[:5]))
    with open(trace, errors="replace") as f:
        lines = f.read().splitlines()
    # getpwnam() of a candidate base user (vmailmgr) reaches NSS, and nss-systemd looks the
    # name up as a file in its user-record directories. The driver only passes names a Unix
    # account can have (no '/', no '..', ASCII), so those are the one exception.
    nss = re.compile(r'"/(etc|run|run/host|usr/lib|usr/local/lib|lib)/userdb/[A-Za-z0-9._-]+\.user"')
    opened = [l for l in lines if MARK in l and not nss.search(l)]
    nss_lookups = [l for l in lines if MARK in l and nss.search(l)]
    checks.check(f"{store}: strace saw Dovecot's file syscalls", len(lines) > 100, f"{len(lines)} lines")
    checks.check(f"{store}: no file syscall named any part of a hostile login", not opened, "\n".join(opened[:10]))
    print(f"{store}: {len(LOGINS)} hostile logins refused; {len(lines)} file syscalls traced, "
          f"{len(opened)} touched a hostile name ({len(nss_lookups)} NSS user-record lookups of "
          f"portable candidate base-user names)")


# run_store.py --only NAME runs one of them
SCENARIOS = ["vpopmail", "vmailmgr"]


def run(args, checks):
    for store in ("vpopmail", "vmailmgr"):
        fixtures.install(args.fixtures, store)
    if checks.scenario("vpopmail"):
        run_one(args, checks, "vpopmail", vpopmail_suite.db_config(), ("alice@example.com", "Alice-pw1"))
    if checks.scenario("vmailmgr"):
        run_one(args, checks, "vmailmgr", vmailmgr_suite.db_config(), ("alice@example.org", "Alice-Pass-1"))
