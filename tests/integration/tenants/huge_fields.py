"""A huge field kills the auth process: a 20 MiB vmailmgr `personal` field in a base user's
passwd.cdb, or a 20 MiB vpopmail home in a domain's vpasswd.cdb, each written by that store's
owner as its tools write the file. The build before copied the field into Dovecot, whose data
stack panicked (SIGABRT): every tenant's in-flight logins failed. Now a record and each field
have a cap checked before the record is copied: the lookup is a logged store fault of that
user, the auth process lives on and another tenant's logins keep working meanwhile."""

import subprocess

from attack_tools import (ALICE, VM_ALICE, VM_ARGS, VM_HOMES, VP_ARGS, VP_DOMAINS, VPOPMAIL, VictimLogins, attempt,
                          config, fault_logged, install, log_mark, lookup, md5crypt, not_run, scenario_dovecot,
                          set_record, vpasswd_value)

TITLE = "a 20 MiB field in a record"

HUGE = 20 << 20
EXNET = (2102, 2102)  # vmailmgr base user exnet, the owner of its passwd.cdb


def auth_pid(dc):
    """The scenario Dovecot's auth process (not an auth worker), or None: a child of its master
    whose command (or process title, "dovecot/auth [...]") is auth, without -w."""
    r = subprocess.run(["pgrep", "-P", str(dc.proc.pid)], capture_output=True, text=True)
    for pid in r.stdout.split():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if argv and argv[0].split()[0].endswith("auth") and "-w" not in argv and "worker" not in " ".join(argv):
            return int(pid)
    return None


def vmailmgr_personal(password, directory, personal):
    """A version-2 record as vmailmgr 0.97 writes it, with this personal field."""
    z = b"\0"
    return (b"\x02\x0a\x01\x08\x01\x00" + password.encode() + z + directory.encode() + z + z + personal + z
            + b"-\0-\0-\0-\0" + b"1795294514\0" + b"-\0")


def attack(args, checks, figures, store, conf, victim, login, path):
    names = [f"{store} huge field: the lookup is a temporary failure (passdb and userdb)",
             f"{store} huge field: the log names the store file",
             f"{store} huge field: the auth process lives on (same pid)",
             f"{store} huge field: another tenant's logins keep working"]
    with scenario_dovecot(args, checks, f"tenant-huge-{store}", conf, victim) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot")
        before = auth_pid(dc)
        mark = log_mark(dc)
        with VictimLogins(dc, *victim) as v:
            results = [attempt(dc, login, "Huge-pw-1")[:2] for _ in range(3)]
            rc, _, uout, _ = lookup(dc, login)
        checks.check(names[0], all(r == "tempfail" for r, _ in results) and rc == 75,
                     f"passdb {[r for r, _ in results]}, userdb rc {rc}: {results[-1][1].strip()} {uout.strip()}")
        line = fault_logged(dc, mark, path)
        checks.check(names[1], line is not None, dc.tail(10))
        after = auth_pid(dc)
        checks.check(names[2], before is not None and before == after, f"auth pid {before} before, {after} after\n"
                     + dc.tail(10))
        checks.check(names[3], v.all_ok(), v.summary())
        figures(f"victim login latency during 20 MiB-field lookups ({store})", v.summary())


def run(args, checks, figures):
    install(args, "vmailmgr")
    cdb = f"{VM_HOMES}/exnet/passwd.cdb"
    set_record(cdb, "huge", vmailmgr_personal(md5crypt("Huge-pw-1"), "./users/huge", b"P" * HUGE), EXNET)
    attack(args, checks, figures, "vmailmgr", config("vmailmgr", VM_ARGS), VM_ALICE, "huge@example.net", cdb)

    install(args, "vpopmail")
    cdb = f"{VP_DOMAINS}/example.net/vpasswd.cdb"
    home = f"{VP_DOMAINS}/example.net/" + "h" * HUGE
    set_record(cdb, "huge", vpasswd_value(md5crypt("Huge-pw-1"), home), VPOPMAIL)
    attack(args, checks, figures, "vpopmail", config("vpopmail", VP_ARGS), ALICE, "huge@example.net", cdb)
