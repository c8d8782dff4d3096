"""Settings files cached whole: vmailmgr base users pad their one-line `.vmailmgr/` settings
files, vpopmail domain owners their `.qmailadmin-limits`, to 16-48 MiB. The build before read
each whole (up to 16 MiB for vmailmgr, 64 MiB for vpopmail) and kept it: a few owners pinned
most of the auth process's 256 MiB. Now each such file has a cap of a few KiB, checked from
fstat() before it is read: the lookups of those owners' users are logged store faults, and
the auth process's memory stays small whatever the files hold."""

import glob
import os

from attack_tools import (ALICE, VM_ARGS, VM_HOMES, VP_ARGS, VP_DOMAINS, VPOPMAIL, attempt, config,
                          fault_logged, install, log_mark, not_run, scenario_dovecot, write_file)
from tenants.huge_fields import auth_pid

TITLE = "settings and limits files padded to MiB"

RSS_BOUND_KIB = 64 * 1024
VM_DESK = ("desk@example.info", "Desk-info")  # base user vm-info, which pads nothing


def padded(first_line, size):
    """A settings file whose first line is what vmailmgr or vpopmail reads, padded to size."""
    head = first_line + b"\n"
    return head + b"#" * (size - len(head))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def pad_vmailmgr():
    """Each base user as it would write its own files: exorg and exnet pad password-file,
    legacy (which has colon records, whose limits come from the default-* settings) pads
    password-file and every default-* file. Returns [(tenant, a login, a padded file)]."""
    under_old_cap = (16 << 20) - 1  # the build before read files of up to 16 MiB whole
    targets = []
    for base, uid, login in (("exorg", 2101, "alice@example.org"), ("exnet", 2102, "ned@example.net"),
                             ("legacy", 2104, "oldbox@example.com")):
        vdir = f"{VM_HOMES}/{base}/.vmailmgr"
        if not os.path.isdir(vdir):
            os.mkdir(vdir, 0o755)
            os.chown(vdir, uid, uid)
        files = {"password-file": b"passwd"}
        if base == "legacy":
            files.update({f"default-{n}": b"-" for n in ("hardquota", "softquota", "msgsize", "msgcount", "expiry")})
        for name, value in files.items():
            write_file(f"{vdir}/{name}", padded(value, under_old_cap), (uid, uid))
        targets.append((f"vmailmgr base user {base}", login, f"{vdir}/password-file"))
    return targets


def pad_vpopmail():
    targets = []
    for domain, login in (("example.net", "rita@example.net"), ("deep.example", "zoe@deep.example")):
        path = glob.glob(f"{VP_DOMAINS}/{domain}") + glob.glob(f"{VP_DOMAINS}/*/{domain}")
        path = f"{path[0]}/.qmailadmin-limits"
        write_file(path, padded(b"disable_imap", 48 << 20), VPOPMAIL, 0o600)
        targets.append((f"vpopmail domain {domain}", login, path))
    return targets


def attack(args, checks, figures, store, conf, victim, targets):
    names = [f"{store} padded settings: each hostile tenant's lookup is a logged store fault",
             f"{store} padded settings: the victim tenant still logs in",
             f"{store} padded settings: the auth process's RSS stays under {RSS_BOUND_KIB // 1024} MiB"]
    with scenario_dovecot(args, checks, f"tenant-settings-{store}", conf, victim) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot")
        faults = []
        for tenant, login, path in targets:
            mark = log_mark(dc)
            result, out, _ = attempt(dc, login, "any-password")
            faults.append((tenant, result, fault_logged(dc, mark, path) is not None))
        checks.check(names[0], all(r == "tempfail" and logged for _, r, logged in faults), f"{faults}\n{dc.tail(10)}")
        result, out, _ = attempt(dc, *victim)
        checks.check(names[1], result == "ok", f"{result}: {out.strip()}")
        pid = auth_pid(dc)
        rss = rss_kib(pid) if pid else None
        figures(f"auth process RSS with {len(targets)} hostile tenants ({store})",
                f"{rss / 1024:.1f} MiB" if rss else "no auth process")
        checks.check(names[2], rss is not None and rss < RSS_BOUND_KIB, f"VmRSS {rss} kB of pid {pid}")


def run(args, checks, figures):
    install(args, "vmailmgr")
    attack(args, checks, figures, "vmailmgr", config("vmailmgr", VM_ARGS), VM_DESK, pad_vmailmgr())
    install(args, "vpopmail")
    attack(args, checks, figures, "vpopmail", config("vpopmail", VP_ARGS), ALICE, pad_vpopmail())
