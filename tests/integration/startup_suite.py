"""Start-up checks: what a driver can see wrong without a login is a Warning in the process
that reads the store (the auth process, or a worker), naming the path, the setting that chose
it, the process's user and the fix; a listing that finds nobody is a Warning too."""
import os

from dovecot_harness import Dovecot, driver_config
import fixtures  # noqa: E402

from fixtures import ROOT  # noqa: E402
VP = f"vpopmail_dir={ROOT}/vpopmail qmail_dir={ROOT}/qmail"
VM = f"qmail_dir={ROOT}/vm-qmail config_dir={ROOT}/vm-etc"


def config(driver, args, extra=""):
    return extra + driver_config(driver, args)


def warnings(dc):
    return [l for l in dc.log_text().splitlines() if "start-up check" in l]


def run_case(args, checks, name, driver, db_args, needles, extra="", login=("alice@example.com", "x")):
    """Starts Dovecot, makes one login (a worker starts and checks), then looks for needles in
    the start-up Warnings."""
    with Dovecot(f"{args.work}-{name}", args.module_dir, config(driver, db_args, extra)) as dc:
        dc.auth_test(login[0], login[1], "imap", "127.0.0.2")
        for needle, why in needles:
            found = dc.wait_for_log(needle, timeout=5)
            checks.check(f"{name}: {why}", found and any(needle in w for w in warnings(dc)),
                         "\n".join(warnings(dc)) or dc.tail(15))
        return dc


# run_store.py --only NAME runs one of them
SCENARIOS = ["clean", "vpopmail-wrong-dirs", "vpopmail-inprocess", "vpopmail-worker-user", "vmailmgr-wrong-dirs",
             "empty-store"]


def run(args, checks):
    for store in ("vpopmail", "vmailmgr"):
        fixtures.install(args.fixtures, store)

    # a correct configuration says nothing
    if checks.scenario("clean"):
        with Dovecot(f"{args.work}-clean", args.module_dir, config("vpopmail", VP)) as dc:
            dc.auth_test("alice@example.com", "x", "imap", "127.0.0.2")
            checks.check("vpopmail fixture: no start-up Warning", not warnings(dc), "\n".join(warnings(dc)))
        with Dovecot(f"{args.work}-clean-vm", args.module_dir, config("vmailmgr", VM)) as dc:
            dc.auth_test("alice@example.org", "x", "imap", "127.0.0.2")
            checks.check("vmailmgr fixture: no start-up Warning", not warnings(dc), "\n".join(warnings(dc)))

    if checks.scenario("vpopmail-wrong-dirs"):
        run_case(args, checks, "vpopmail-wrong-dirs", "vpopmail",
                 f"vpopmail_dir={ROOT}/no-such-vpopmail qmail_dir={ROOT}/no-such-qmail",
                 [("no-such-vpopmail is not a directory (vpopmail_dir=)", "a wrong vpopmail_dir is named"),
                  ("(qmail_dir=", "a wrong qmail_dir is named"),
                  ("the auth process runs as uid", "the Warning says which process")])

    # the auth process (dovecot) reads through its store broker, as the store's owner: a file
    # even the owner may not read is named, with who read it
    if checks.scenario("vpopmail-inprocess"):
        defaultdomain = f"{ROOT}/vpopmail/etc/defaultdomain"
        mode = os.stat(defaultdomain).st_mode & 0o7777
        os.chmod(defaultdomain, 0)
        try:
            run_case(args, checks, "vpopmail-inprocess", "vpopmail", VP,
                     [("Permission denied", "a file the store's owner cannot read: said at start"),
                      ("the auth process runs as uid", "the Warning names the auth process's uid"),
                      ("through the store broker", "the Warning says the broker read it as the owner")])
        finally:
            os.chmod(defaultdomain, mode)

    # workers as dovecot
    if checks.scenario("vpopmail-worker-user"):
        run_case(args, checks, "vpopmail-worker-user", "vpopmail", VP + " blocking=yes",
                 [("Permission denied", "workers that cannot read the store: said when one starts"),
                  ("this auth worker runs as uid", "the Warning names the worker's uid"),
                  ("service auth-worker { user }", "the Warning gives the fix")],
                 extra="service auth-worker {\n  user = dovecot\n}\n")

    if checks.scenario("vmailmgr-wrong-dirs"):
        run_case(args, checks, "vmailmgr-wrong-dirs", "vmailmgr",
                 f"qmail_dir={ROOT}/no-such-vm-qmail config_dir={ROOT}/no-such-vm-etc",
                 [("no-such-vm-etc is not a directory (config_dir=)", "a wrong config_dir is named"),
                  ("control/virtualdomains does not exist (qmail_dir=)", "a wrong qmail_dir is named")],
                 login=("alice@example.org", "x"))

    # a listing of a store with nobody in it
    if checks.scenario("empty-store"):
        empty = f"{args.work}-empty-qmail"
        os.makedirs(f"{empty}/control", exist_ok=True)
        open(f"{empty}/control/virtualdomains", "w").close()
        os.chmod(empty, 0o755)
        with Dovecot(f"{args.work}-empty", args.module_dir,
                     config("vmailmgr", f"qmail_dir={empty} config_dir={ROOT}/vm-etc")) as dc:
            r = dc.doveadm("user", "*")
            checks.check("empty store: doveadm user '*' lists nobody", r.stdout.strip() == "", r.stdout)
            checks.check("empty store: the listing logs a Warning", dc.wait_for_log("user iteration found no user"),
                         dc.tail(10))
            checks.check("empty store: the start-up check says virtualdomains names no domain",
                         dc.wait_for_log("control/virtualdomains names no domain"), dc.tail(10))
