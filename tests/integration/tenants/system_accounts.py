"""Account enumeration: vmailmgr `NAME-x@domain` where NAME is a Unix account above
first_valid_uid that control/virtualdomains does not name (an ordinary system user). The
build before tried to read that account's home: with the store broker (the default) the
broker refused it, and without a home (blocking=yes, root workers) the home was missing; both
answered a temporary failure and logged an Error, while a name that does not exist answered
a plain failure. Now only the base users control/virtualdomains names are looked into: a
system account answers exactly as an unknown name, in passdb and userdb, with no Error line."""

import contextlib
import subprocess

from attack_tools import VM_ARGS, attempt, config, install, log_mark, logged, lookup, not_run, scenario_dovecot

TITLE = "system accounts answer as unknown names"

VM_DESK = ("desk@example.info", "Desk-info")
ACCOUNTS = (("vstoresys1", 3901, True), ("vstoresys2", 3902, False))  # name, uid, with a home on disk
UNKNOWN = "vstorenosuch"


@contextlib.contextmanager
def system_accounts():
    made = []
    try:
        for name, uid, home in ACCOUNTS:
            subprocess.run(["useradd", "-u", str(uid), "-U", "-s", "/usr/sbin/nologin", "-d", f"/home/{name}",
                            "-m" if home else "-M", name], check=True, capture_output=True)
            made.append(name)
        yield
    finally:
        for name in made:
            subprocess.run(["userdel", "-r", name], capture_output=True)


def answers(dc, name):
    """What passdb and userdb answer for NAME-x at an unknown domain and at a locals domain."""
    out = []
    for login in (f"{name}-x@example.invalid", f"{name}-x@localhost"):
        result, _, _ = attempt(dc, login, "Any-pw-1")
        rc, _, _, _ = lookup(dc, login)
        out.append((result, rc))
    return out


def scenario(args, checks, mode, extra):
    names = [f"system accounts ({mode}): passdb and userdb answer as for a name that does not exist",
             f"system accounts ({mode}): no Error line for either"]
    with scenario_dovecot(args, checks, f"tenant-sysacct-{mode.split()[0]}", config("vmailmgr", VM_ARGS + extra),
                          VM_DESK) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot")
        mark = log_mark(dc)
        unknown = answers(dc, UNKNOWN)
        got = {name: answers(dc, name) for name, _, _ in ACCOUNTS}
        same = unknown[0][0] == "fail" and all(a == unknown for a in got.values())
        checks.check(names[0], same, f"unknown name: {unknown}; system accounts: {got}")
        error = logged(dc, mark, "Error", timeout=1)
        checks.check(names[1], error is None, error or "")


def run(args, checks, figures):
    install(args, "vmailmgr")
    with system_accounts():
        scenario(args, checks, "store broker", "")
        scenario(args, checks, "blocking=yes", " blocking=yes")
