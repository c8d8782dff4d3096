"""Store faults against a real Dovecot: each must be a temporary failure with a specific log
line, and the auth process must go on serving other domains. Also proves the privilege notes
in README: the vpopmail run uses auth workers running as the store's owner, not root."""

import os
import random
import shutil

from dovecot_harness import Dovecot, driver_config
import fixtures  # noqa: E402

from fixtures import ROOT  # noqa: E402
VP_ARGS = f"vpopmail_dir={ROOT}/vpopmail qmail_dir={ROOT}/qmail webmail_ips=127.0.0.1"
VM_ARGS = f"qmail_dir={ROOT}/vm-qmail config_dir={ROOT}/vm-etc"


def config(driver, args, worker_user=None):
    worker = f"service auth-worker {{\n  user = {worker_user}\n}}\n" if worker_user else ""
    return worker + driver_config(driver, args)


def garbage(n):
    return random.Random(20261122).randbytes(n)


def file_faults(path, owner):
    """(name, apply) pairs for a store file; each apply() damages path."""
    size = os.path.getsize(path)
    orig = open(path, "rb").read()

    def write(data):
        def apply():
            with open(path, "wb") as f:
                f.write(data)
            shutil.chown(path, *owner)
        return apply

    def unreadable():
        os.chmod(path, 0)

    def missing():
        os.unlink(path)

    def directory():
        os.unlink(path)
        os.mkdir(path)

    return [
        ("zero-length", write(b""), "truncated: 0 bytes"),
        ("truncated below the header", write(orig[:1000]), "truncated: 1000 bytes"),
        ("truncated inside the records", write(orig[:2048 + (size - 2048) // 3]), "is corrupt"),
        ("garbage", write(garbage(size)), "is corrupt"),
        ("unreadable (mode 000)", unreadable, "Permission denied"),
        ("missing", missing, "No such file or directory"),
        ("directory instead of file", directory, "is a directory, not a regular file"),
    ]


def run_faults(dc, checks, table, store, faults, victim, healthy, restore, skip=(), userdb=True):
    """Applies each fault, expects a logged temporary failure for victim and (when healthy is
    given) a working login in another domain, then restores the store."""
    for name, apply, needle in faults:
        if name in skip:
            continue
        apply()
        try:
            mark = len(dc.log_text())
            result, out = dc.auth_test(victim[0], victim[1], "imap", "127.0.0.2")
            if userdb:
                rc, _f, uout = dc.user(victim[0])
            dc.wait_for_log(needle, timeout=5)
            log = dc.log_text()[mark:]
            line = next((l for l in log.splitlines() if "store fault" in l), "")
            table.append((store, name, result, f"doveadm user exit {rc}" if userdb else "",
                          line.split("store fault (temporary failure): ", 1)[-1][:120]))
            checks.check(f"{store} {name}: auth test is a temporary failure", result == "tempfail", out)
            if userdb:
                checks.check(f"{store} {name}: userdb lookup is a temporary failure (exit 75)", rc == 75, uout)
            checks.check(f"{store} {name}: the log names the fault", needle in log and "store fault" in log,
                         log[-2000:])
            if healthy is not None:
                ok_other, _ = dc.auth_test(healthy[0], healthy[1], "imap", "127.0.0.2")
                checks.check(f"{store} {name}: other domains still log in", ok_other == "ok")
        finally:
            restore()


def vpopmail_faults(args, checks, table):
    fixtures.install(args.fixtures, "vpopmail")
    dom = f"{ROOT}/vpopmail/domains/example.net"
    cdb = f"{dom}/vpasswd.cdb"
    saved = open(cdb, "rb").read()

    def restore():
        if os.path.exists(f"{dom}.away"):
            os.rename(f"{dom}.away", dom)
        if os.path.exists(f"{ROOT}/qmail/users/cdb.away"):
            os.rename(f"{ROOT}/qmail/users/cdb.away", f"{ROOT}/qmail/users/cdb")
        if os.path.exists(f"{dom}/vpasswd.away"):
            os.rename(f"{dom}/vpasswd.away", f"{dom}/vpasswd")
        if os.path.isdir(cdb) and not os.path.islink(cdb):
            os.rmdir(cdb)
        with open(cdb, "wb") as f:
            f.write(saved)
        shutil.chown(cdb, "vpopmail", "vchkpw")
        os.chmod(cdb, 0o600)

    faults = file_faults(cdb, ("vpopmail", "vchkpw"))
    # a missing vpasswd.cdb alone falls back to the text vpasswd: remove both
    faults = [(n, (lambda a=a: (a(), os.rename(f"{dom}/vpasswd", f"{dom}/vpasswd.away"))) if n == "missing" else a, nd)
              for n, a, nd in faults]
    faults += [
        ("missing users/cdb", lambda: os.rename(f"{ROOT}/qmail/users/cdb", f"{ROOT}/qmail/users/cdb.away"),
         "run qmail-newu"),
        ("domain directory vanished", lambda: os.rename(dom, f"{dom}.away"), "has no readable user store"),
    ]
    # Auth workers as the store's owner (not root): mode 000 is then really unreadable.
    with Dovecot(args.work + "-faults-vpopmail", args.module_dir, config("vpopmail", VP_ARGS, "vpopmail")) as dc:
        ok, out = dc.auth_test("rita@example.net", "Rita-net-1", "imap", "127.0.0.2")
        checks.check("auth workers running as vpopmail (not root) read the store", ok == "ok", out)
        healthy = ("alice@example.com", "Alice-pw1")
        rita = ("rita@example.net", "Rita-net-1")
        run_faults(dc, checks, table, "vpopmail", faults[:-2], rita, healthy, restore)
        # a missing users/cdb hits every domain; a vanished domain only its own
        run_faults(dc, checks, table, "vpopmail", faults[-2:-1], rita, None, restore, userdb=False)
        run_faults(dc, checks, table, "vpopmail", faults[-1:], rita, healthy, restore, userdb=False)
        ok, _ = dc.auth_test("rita@example.net", "Rita-net-1", "imap", "127.0.0.2")
        checks.check("vpopmail: after the faults are repaired the user logs in again (no restart)", ok == "ok")


def vmailmgr_faults(args, checks, table):
    fixtures.install(args.fixtures, "vmailmgr")
    home = f"{ROOT}/vmailmgr/exnet"
    cdb = f"{home}/passwd.cdb"
    saved = open(cdb, "rb").read()

    def restore():
        if os.path.isdir(cdb) and not os.path.islink(cdb):
            os.rmdir(cdb)
        if os.path.exists(home + ".away"):
            os.rename(home + ".away", home)
        with open(cdb, "wb") as f:
            f.write(saved)
        shutil.chown(cdb, "exnet", "exnet")
        os.chmod(cdb, 0o600)

    # A base user without a passwd.cdb (its home is there) has no virtual users: an unknown
    # user, as for checkvpw, checked below; a vanished home is an unmounted store: a fault.
    faults = [f for f in file_faults(cdb, ("exnet", "exnet")) if f[0] != "missing"]
    faults.append(("base user's home vanished", lambda: os.rename(home, home + ".away"), "No such file or directory"))
    with Dovecot(args.work + "-faults-vmailmgr", args.module_dir, config("vmailmgr", VM_ARGS)) as dc:
        # workers run as root here (stock settings), yet read the store as its base user:
        # mode 000 is unreadable to them too
        run_faults(dc, checks, table, "vmailmgr", faults, ("ned@example.net", "Ned-md5crypt"),
                   ("alice@example.org", "Alice-Pass-1"), restore)
        os.unlink(cdb)
        try:
            mark = len(dc.log_text())
            result, out = dc.auth_test("ned@example.net", "Ned-md5crypt", "imap", "127.0.0.2")
            checks.check("vmailmgr no passwd.cdb in the home: an unknown user", result == "fail", out)
            dc.wait_for_log("has no " + cdb, timeout=5)
            log = dc.log_text()[mark:]
            checks.check("vmailmgr no passwd.cdb in the home: logged at debug, no error",
                         "has no " + cdb in log and "Error" not in log, log[-2000:])
        finally:
            restore()


# run_store.py --only NAME runs one of them
SCENARIOS = ["vpopmail", "vmailmgr"]


def run(args, checks):
    table = []
    try:
        if checks.scenario("vpopmail"):
            vpopmail_faults(args, checks, table)
        if checks.scenario("vmailmgr"):
            vmailmgr_faults(args, checks, table)
    finally:
        for store in ("vpopmail", "vmailmgr"):
            fixtures.install(args.fixtures, store)
    print("\nstore | fault | auth test | userdb | logged reason")
    for row in table:
        print(" | ".join(row))
