"""Attacks by the store's owner against a real Dovecot. Whoever holds only the rights of the
store owner (vpopmail, uid 89; a vmailmgr base user) can rewrite every store file, point a
home anywhere, plant symlinks, hard links and FIFOs, and truncate a store in place. The auth
workers run as root (stock settings), so each attack must end in the safe behaviour: files
opened with the owner's rights, O_NOFOLLOW|O_NONBLOCK and only if regular, homes inside the
domain directory / base home (or home_roots=), lastauth written as the domain's uid under a
fresh name, bounded hash costs, no uid/gid 0, a temporary failure for every store fault and
an answer within seconds. Scratch files live in /srv/vstore-attack (root-owned where the
attack needs a root-owned target) and go away at the end."""

import os
import random
import subprocess
import threading
import time

from auth_client import AuthClient
from cdb_write import read_records, write_replace
from dovecot_harness import in_workers
from attack_tools import (ALICE, ANSWER_WITHIN, ATTACK, EXNET, EXORG, FAULT, LEGACY,
                          PROBE_TIMEOUT, RITA, ROOT, Saved, VM_ALICE, VM_ARGS, VM_HOMES, VM_NED, VP,
                          VPOPMAIL, VP_ARGS, VP_DOMAINS, ZOE, attempt, concurrently, config,
                          describe, fault_logged, install, listing, log_mark, logged,
                          lookup, make_fifo, md5crypt, new_entries, not_run,
                          releasing, remove, root_dir, scenario_dovecot, set_record, symlink_as,
                          vmailmgr_v2, vpasswd_value, write_file)

# ---------------------------------------------------------------------------------------------
# 1. a vpopmail home outside the domain, in a root-owned directory

def home_outside_vpopmail(args, checks):
    install(args, "vpopmail")
    rootdir = root_dir(f"{ATTACK}/rootdir")
    dom = f"{VP_DOMAINS}/example.net"
    set_record(f"{dom}/vpasswd.cdb", "evil", vpasswd_value(md5crypt("Evil-pw-1"), rootdir), VPOPMAIL)
    evil = ("evil@example.net", "Evil-pw-1")

    name = "home outside the domain"
    names = [f"{name}: login is a temporary failure", f"{name}: answered within {ANSWER_WITHIN} s",
             f"{name}: the log names the fault and the home", f"{name}: no file appeared in the root-owned directory"]
    with scenario_dovecot(args, checks, "attack-home-outside", config("vpopmail", VP_ARGS + " lastauth_interval=0"),
                          ALICE) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot")
        before = listing(rootdir)
        mark = log_mark(dc)
        result, out, secs = attempt(dc, *evil)
        checks.check(names[0], result == "tempfail", f"{result}: {out.strip()}")
        checks.check(names[1], secs < ANSWER_WITHIN, f"{secs:.1f} s")
        checks.check(names[2], fault_logged(dc, mark, rootdir) is not None, dc.tail(10))
        created = new_entries(before, listing(rootdir))
        checks.check(names[3], not created, str(created))

    # The same home allowed by home_roots=: the login may go through, but lastauth, written
    # with the domain's uid, cannot land in a root-owned 0755 directory.
    name = "home under home_roots"
    names = [f"{name}: login is not refused as a wrong password", f"{name}: answered within {ANSWER_WITHIN} s",
             f"{name}: no new file in the root-owned directory",
             f"{name}: the refused lastauth write is a logged warning"]
    conf = config("vpopmail", VP_ARGS + f" home_roots={ATTACK} lastauth_interval=0")
    with scenario_dovecot(args, checks, "attack-home-roots", conf, ALICE) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot (home_roots= not accepted?)")
        before = listing(rootdir)
        mark = log_mark(dc)
        result, out, secs = attempt(dc, *evil)
        print(f"{name}: evil@example.net with home {rootdir}: {result} in {secs:.1f} s")
        checks.check(names[0], result in ("ok", "tempfail"), f"{result}: {out.strip()}")
        checks.check(names[1], secs < ANSWER_WITHIN, f"{secs:.1f} s")
        created = new_entries(before, listing(rootdir))
        checks.check(names[2], not created, str(created))
        checks.check(names[3], result != "ok" or logged(dc, mark, "Warning", "cannot update lastauth") is not None,
                     dc.tail(10))


# 2. a user directory replaced by a symlink to a root-owned directory holding a root lastauth

def symlinked_user_dir(args, checks):
    install(args, "vpopmail")
    target = root_dir(f"{ATTACK}/symroot")
    lastauth = f"{target}/lastauth"
    with open(lastauth, "wb") as f:
        f.write(b"root-content")
    os.chown(lastauth, 0, 0)
    os.chmod(lastauth, 0o600)
    os.utime(lastauth, (time.time() - 3600, time.time() - 3600))
    symlink_as(target, f"{VP_DOMAINS}/example.com/pat", VPOPMAIL)
    pat = ("pat@example.com", "Pat-pw9")

    name = "user dir symlinked to a root dir"
    names = [f"{name}: login is not refused as a wrong password", f"{name}: answered within {ANSWER_WITHIN} s",
             f"{name}: the root-owned lastauth is unchanged (owner, mode, content, inode, mtime)",
             f"{name}: no file was created in the root-owned directory"]
    with scenario_dovecot(args, checks, "attack-symlink-dir", config("vpopmail", VP_ARGS + " lastauth_interval=0"),
                          ALICE) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot")
        before, files = describe(lastauth), listing(target)
        result, out, secs = attempt(dc, *pat)
        print(f"{name}: pat@example.com: {result} in {secs:.1f} s")
        checks.check(names[0], result in ("ok", "tempfail"), f"{result}: {out.strip()}")
        checks.check(names[1], secs < ANSWER_WITHIN, f"{secs:.1f} s")
        time.sleep(0.5)
        after = describe(lastauth) if os.path.lexists(lastauth) else "(gone)"
        checks.check(names[2], after == before, f"before {before}\nafter  {after}")
        created = new_entries(files, listing(target))
        checks.check(names[3], not created, str(created))


# 3. hard links at the names an old build used for lastauth's temporary file

def auth_worker_pids(dc):
    """This Dovecot's auth workers: its master's children titled '<instance>/auth -w'."""
    r = subprocess.run(["pgrep", "-P", str(dc.proc.pid), "-f", "auth -w"], capture_output=True, text=True)
    return sorted(int(p) for p in r.stdout.split())


def hardlinked_tmp(args, checks):
    install(args, "vpopmail")
    r = subprocess.run(["sysctl", "fs.protected_hardlinks"], capture_output=True, text=True)
    print(f"hard links: {r.stdout.strip() or r.stderr.strip()}")
    # Root makes the links here. With fs.protected_hardlinks=1 uid 89 could not link a file it
    # does not own, so this simulates a kernel where protected_hardlinks=0 (or a store on a
    # file system that ignores it): the store's owner links a root-only file into a user dir.
    secret_dir = root_dir(f"{ATTACK}/hardroot", 0o700)
    secret = f"{secret_dir}/secret"
    with open(secret, "wb") as f:
        f.write(b"root-only secret\n")
    os.chown(secret, 0, 0)
    os.chmod(secret, 0o600)
    os.utime(secret, (time.time() - 3600, time.time() - 3600))
    userdir = f"{VP_DOMAINS}/example.com/alice"

    name = "hard-linked lastauth temp names"
    names = [f"{name}: logins succeed", f"{name}: each answered within {ANSWER_WITHIN} s",
             f"{name}: the root-owned file is unchanged (content, owner, mode, mtime)"]
    with scenario_dovecot(args, checks, "attack-hardlink", config("vpopmail", VP_ARGS + " lastauth_interval=0"),
                          ALICE) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot")
        pids = auth_worker_pids(dc)
        rng = random.Random(20261201)
        pid_max = int(open("/proc/sys/kernel/pid_max").read())
        candidates = set(pids) | {p + d for p in pids for d in range(1, 6)} | set(rng.sample(range(300, pid_max), 20))
        for n in sorted(candidates):
            link = f"{userdir}/lastauth.tmp.{n}"
            if not os.path.lexists(link):
                os.link(secret, link)
        before = describe(secret)
        print(f"{name}: auth-worker pids {pids}; {len(candidates)} links lastauth.tmp.N -> {secret}")
        results = [attempt(dc, *ALICE) for _ in range(3)]
        results += concurrently(attempt, [(dc, *ALICE)] * 4)  # more workers, new pids
        results += [attempt(dc, *ALICE) for _ in range(2)]
        checks.check(names[0], all(r[0] == "ok" for r in results), str([r[0] for r in results]))
        checks.check(names[1], all(r[2] < ANSWER_WITHIN for r in results), str([round(r[2], 1) for r in results]))
        time.sleep(0.5)
        after = describe(secret)
        del before["ino"], after["ino"]
        checks.check(names[2], after == before, f"before {before}\nafter  {after}")


# 4. vmailmgr password-file naming a root-only store elsewhere

def password_file_escape(args, checks):
    install(args, "vmailmgr")
    rootonly = root_dir(f"{ATTACK}/rootonly", 0o700)
    records = read_records(f"{VM_HOMES}/exorg/passwd.cdb")
    records.append((b"intruder", vmailmgr_v2("$0$Intruder-pw1", "./users/alice")))
    write_replace(f"{rootonly}/passwd.cdb", records, 0, 0)
    settings = f"{VM_HOMES}/exorg/.vmailmgr"
    os.makedirs(settings, exist_ok=True)
    os.chown(settings, *EXORG)
    pwfile = f"{settings}/password-file"
    intruder = ("intruder@example.org", "Intruder-pw1")

    with scenario_dovecot(args, checks, "attack-password-file", config("vmailmgr", VM_ARGS), VM_ALICE) as dc:
        variants = [("relative", "../../../../srv/vstore-attack/rootonly/passwd"),
                    ("absolute", "/srv/vstore-attack/rootonly/passwd")]
        for kind, value in variants:
            name = f"password-file {kind} path to a root-only store"
            names = [f"{name}: the store's user is not logged in", f"{name}: login is a temporary failure",
                     f"{name}: answered within {ANSWER_WITHIN} s", f"{name}: the log has the store fault",
                     f"{name}: other base users still log in"]
            if dc is None:
                not_run(checks, names, "no usable Dovecot")
                continue
            write_file(pwfile, value.encode() + b"\n", EXORG)
            mark = log_mark(dc)
            result, out, secs = attempt(dc, *intruder)
            checks.check(names[0], result != "ok", f"{result}: {out.strip()}")
            checks.check(names[1], result == "tempfail", f"{result}: {out.strip()}")
            checks.check(names[2], secs < ANSWER_WITHIN, f"{secs:.1f} s")
            checks.check(names[3], logged(dc, mark, "Error", FAULT) is not None, dc.tail(10))
            ok, out, _ = attempt(dc, *VM_NED)
            checks.check(names[4], ok == "ok", out)


# 5. the text vpasswd (nocdb.example) and a vpasswd.cdb (deep.example) as symlinks to root-only copies

def symlinked_store(args, checks):
    install(args, "vpopmail")
    rootonly = root_dir(f"{ATTACK}/rootonly-vp", 0o700)
    nocdb = f"{VP_DOMAINS}/nocdb.example"
    lines = []
    for line in open(f"{nocdb}/vpasswd"):
        f = line.rstrip("\n").split(":")
        if f[0] == "tina":
            f[1], f[7] = md5crypt("Root-tina-1"), "Root-tina-1"
        lines.append(":".join(f) + "\n")
    write_file(f"{rootonly}/vpasswd", "".join(lines).encode(), (0, 0), 0o600)
    symlink_as(f"{rootonly}/vpasswd", f"{nocdb}/vpasswd", VPOPMAIL)

    deep = f"{VP_DOMAINS}/0/deep.example"
    records = []
    for k, v in read_records(f"{deep}/vpasswd.cdb"):
        if k == b"zoe":
            v = md5crypt("Root-zoe-1").encode() + b":" + v.split(b":", 1)[1]
        records.append((k, v))
    write_replace(f"{rootonly}/vpasswd.cdb", records, 0, 0)
    symlink_as(f"{rootonly}/vpasswd.cdb", f"{deep}/vpasswd.cdb", VPOPMAIL)

    with scenario_dovecot(args, checks, "attack-symlink-store", config("vpopmail", VP_ARGS), ALICE) as dc:
        for label, login, path in (("text vpasswd", ("tina@nocdb.example", "Root-tina-1"), f"{nocdb}/vpasswd"),
                                   ("vpasswd.cdb", ("zoe@deep.example", "Root-zoe-1"), f"{deep}/vpasswd.cdb")):
            name = f"{label} symlinked to a root-only copy"
            names = [f"{name}: the root-only password does not log in", f"{name}: login is a temporary failure",
                     f"{name}: answered within {ANSWER_WITHIN} s", f"{name}: the log names the fault and the path"]
            if dc is None:
                not_run(checks, names, "no usable Dovecot")
                continue
            mark = log_mark(dc)
            result, out, secs = attempt(dc, *login)
            checks.check(names[0], result != "ok", f"{result}: {out.strip()}")
            checks.check(names[1], result == "tempfail", f"{result}: {out.strip()}")
            checks.check(names[2], secs < ANSWER_WITHIN, f"{secs:.1f} s")
            checks.check(names[3], fault_logged(dc, mark, path) is not None, dc.tail(10))


# 6. FIFOs wherever a store file is opened

def fifo_case(dc, checks, name, fifo, owner, victim, good, expect="tempfail", age=None, restore_first=False):
    """Replaces fifo with a FIFO, logs victim in (expect), then good, then puts the file back."""
    saved = Saved(fifo)
    make_fifo(fifo, owner, age)
    try:
        with releasing([fifo]):
            mark = log_mark(dc)
            result, out, secs = attempt(dc, *victim)
            checks.check(f"{name}: login is {'a temporary failure' if expect == 'tempfail' else 'ok'}",
                         result == expect, f"{result}: {out.strip()}")
            checks.check(f"{name}: answered within {ANSWER_WITHIN} s", secs < ANSWER_WITHIN, f"{secs:.1f} s")
            if expect == "tempfail":
                checks.check(f"{name}: the log names the fault and the FIFO", fault_logged(dc, mark, fifo) is not None,
                             dc.tail(10))
            if restore_first:
                saved.restore()
            ok, out, secs = attempt(dc, *good)
            checks.check(f"{name}: then {good[0]} logs in within {ANSWER_WITHIN} s",
                         ok == "ok" and secs < ANSWER_WITHIN, f"{ok} in {secs:.1f} s: {out.strip()}")
    finally:
        saved.restore()


def fifo_storm(dc, checks, fifo, victim, good, n=40):
    """n requests in flight on one auth-client connection for a FIFO'd store; a good login
    sent while they are pending must not queue behind hung workers."""
    name = f"{n} concurrent logins against a FIFO vpasswd.cdb"
    saved = Saved(fifo)
    make_fifo(fifo, VPOPMAIL)
    try:
        with releasing([fifo]):
            client = AuthClient(dc.socket("auth-client"), timeout=PROBE_TIMEOUT + 5)
            start = time.monotonic()
            for _ in range(n):
                client.send_plain(*victim)
            good_result = []
            good_thread = threading.Thread(target=lambda: good_result.append(attempt(dc, *good)))
            time.sleep(0.5)
            good_thread.start()
            results = []
            try:
                for _ in range(n):
                    results.append(client.read_result()[1])
            except OSError as e:
                results.append(f"socket: {e}")
            all_secs = time.monotonic() - start
            client.close()
            good_thread.join()
        ok, out, secs = good_result[0]
        counts = {r: results.count(r) for r in set(results)}
        print(f"{name}: {counts} in {all_secs:.1f} s; {good[0]} meanwhile: {ok} in {secs:.1f} s")
        checks.check(f"{name}: every one is a temporary failure", results == ["tempfail"] * n, str(counts))
        checks.check(f"{name}: all answered within {ANSWER_WITHIN} s", all_secs < ANSWER_WITHIN, f"{all_secs:.1f} s")
        checks.check(f"{name}: {good[0]} sent meanwhile logs in within {ANSWER_WITHIN} s",
                     ok == "ok" and secs < ANSWER_WITHIN, f"{ok} in {secs:.1f} s: {out.strip()}")
    finally:
        saved.restore()
    ok, out, secs = attempt(dc, *good)
    checks.check(f"{name}: afterwards {good[0]} logs in within {ANSWER_WITHIN} s",
                 ok == "ok" and secs < ANSWER_WITHIN, f"{ok} in {secs:.1f} s: {out.strip()}")


def fifos(args, checks):
    install(args, "vpopmail")
    vp_cases = ["FIFO .qmailadmin-limits", "FIFO vpasswd.cdb", "FIFO text vpasswd", "FIFO lastauth",
                "FIFO etc/defaultdomain"]
    with scenario_dovecot(args, checks, "attack-fifo-vpopmail", config("vpopmail", VP_ARGS), ALICE) as dc:
        if dc is None:
            not_run(checks, vp_cases + ["40 concurrent logins against a FIFO vpasswd.cdb"], "no usable Dovecot")
        else:
            fifo_case(dc, checks, vp_cases[0], f"{VP_DOMAINS}/imapoff.example/.qmailadmin-limits", VPOPMAIL,
                      ("victor@imapoff.example", "Victor-io-1"), RITA)
            fifo_case(dc, checks, vp_cases[1], f"{VP_DOMAINS}/example.net/vpasswd.cdb", VPOPMAIL, RITA, ALICE)
            fifo_case(dc, checks, vp_cases[2], f"{VP_DOMAINS}/nocdb.example/vpasswd", VPOPMAIL,
                      ("tina@nocdb.example", "Tina-pw1"), ALICE)
            # lastauth: an hour old, so that the default lastauth_interval (60 s) wants a write
            # and the driver looks at the file; a lastauth problem never fails the login.
            fifo_case(dc, checks, vp_cases[3], f"{VP_DOMAINS}/example.com/bob/lastauth", VPOPMAIL,
                      ("bob@example.com", "Bob-pw2"), ALICE, expect="ok", age=3600)
            fifo_case(dc, checks, vp_cases[4], f"{VP}/etc/defaultdomain", VPOPMAIL, ("alice", "Alice-pw1"), RITA)
            fifo_storm(dc, checks, f"{VP_DOMAINS}/example.net/vpasswd.cdb", RITA, ALICE)

    install(args, "vmailmgr")
    vm_cases = ["FIFO ~base/.vmailmgr/password-file", "FIFO passwd.cdb", "FIFO control/virtualdomains"]
    with scenario_dovecot(args, checks, "attack-fifo-vmailmgr", config("vmailmgr", VM_ARGS), VM_ALICE) as dc:
        if dc is None:
            return not_run(checks, vm_cases, "no usable Dovecot")
        settings = f"{VM_HOMES}/exnet/.vmailmgr"
        write_file(f"{settings}/password-file", b"passwd\n", EXNET)
        fifo_case(dc, checks, vm_cases[0], f"{settings}/password-file", EXNET, VM_NED, VM_ALICE)
        fifo_case(dc, checks, vm_cases[1], f"{VM_HOMES}/exnet/passwd.cdb", EXNET, VM_NED, VM_ALICE)
        # every vmailmgr login reads virtualdomains: the good login comes after it is back
        fifo_case(dc, checks, vm_cases[2], f"{ROOT}/vm-qmail/control/virtualdomains", (0, 0), VM_ALICE, VM_NED,
                  restore_first=True)


# 7. a store truncated and rewritten in place (same inode) under load

def truncation_storm(dc, checks, name, path, good, seconds=9):
    orig = open(path, "rb").read()
    stop = threading.Event()
    stats = {"rewrites": 0, "logins": 0, "iterations": 0}
    verdicts = {}
    bad = []

    def truncate_loop():
        rng = random.Random(7)
        while not stop.is_set():
            fd = os.open(path, os.O_RDWR)
            try:
                os.ftruncate(fd, 0)
                if rng.random() < 0.5:
                    time.sleep(rng.random() * 0.002)
                os.pwrite(fd, orig, 0)
            finally:
                os.close(fd)
            stats["rewrites"] += 1

    def load():
        try:
            client = AuthClient(dc.socket("auth-client"), timeout=PROBE_TIMEOUT)
            pending = 0
            while not stop.is_set() or pending:
                while pending < 8 and not stop.is_set():
                    client.send_plain(*good)
                    pending += 1
                result = client.read_result()[1]
                pending -= 1
                stats["logins"] += 1
                verdicts[result] = verdicts.get(result, 0) + 1
            client.close()
        except OSError as e:
            bad.append(f"auth-client: {e}")

    writer = threading.Thread(target=truncate_loop)
    loader = threading.Thread(target=load)
    writer.start()
    loader.start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            r = dc.doveadm("user", "*", timeout=PROBE_TIMEOUT)
            stats["iterations"] += 1
            key = f"user '*' exit {r.returncode}"
            verdicts[key] = verdicts.get(key, 0) + 1
        except subprocess.TimeoutExpired:
            bad.append("doveadm user '*' did not answer")
        result, out, _ = attempt(dc, *good)
        verdicts[result] = verdicts.get(result, 0) + 1
        if result not in ("ok", "tempfail"):
            bad.append(f"{result}: {out.strip()}")
    stop.set()
    writer.join()
    loader.join()
    with open(path, "wb") as f:  # leave it whole
        f.write(orig)
    time.sleep(0.5)
    print(f"{name}: {stats['rewrites']} in-place truncations, {stats['iterations']} iterations, "
          f"{stats['logins']} auth-client logins; results {verdicts}")
    checks.check(f"{name}: the store was truncated in place many times", stats["rewrites"] > 100, str(stats))
    checks.check(f"{name}: logins ran during the storm", stats["logins"] > 50, str(stats))
    checks.check(f"{name}: no login of the right password was refused (only ok or tempfail)",
                 not bad and verdicts.get("fail", 0) == 0, f"{verdicts}\n" + "\n".join(bad[:5]))
    died = [l for l in dc.log_text().splitlines() if "killed with signal" in l or "Fatal" in l]
    checks.check(f"{name}: no process was killed by a signal, no Fatal", not died, "\n".join(died[:5]))
    ok, out, secs = attempt(dc, *good)
    checks.check(f"{name}: afterwards {good[0]} logs in", ok == "ok", out)


def truncation(args, checks):
    install(args, "vpopmail")
    with scenario_dovecot(args, checks, "attack-truncate-vpopmail", config("vpopmail", VP_ARGS), ALICE) as dc:
        if dc is not None:
            truncation_storm(dc, checks, "vpopmail vpasswd.cdb truncated in place",
                             f"{VP_DOMAINS}/example.com/vpasswd.cdb", ALICE)
    install(args, "vmailmgr")
    with scenario_dovecot(args, checks, "attack-truncate-vmailmgr", config("vmailmgr", VM_ARGS), VM_ALICE) as dc:
        if dc is not None:
            truncation_storm(dc, checks, "vmailmgr passwd.cdb truncated in place",
                             f"{VM_HOMES}/exorg/passwd.cdb", VM_ALICE)


# 8. hash costs an attacker chooses

SHA512_HUGE = "$6$rounds=999999999$abcdefgh$" + "A" * 86
BCRYPT_HUGE = "$2b$31$" + "abcdefghijklmnopqrstuv" + "B" * 31


def set_vpasswd_hash(path, user, hashed):
    records = []
    for k, v in read_records(path):
        if k == user.encode():
            v = hashed.encode() + b":" + v.split(b":", 1)[1]
        records.append((k, v))
    write_replace(path, records, *VPOPMAIL)


def hash_cost(args, checks):
    install(args, "vpopmail")
    cdb = f"{VP_DOMAINS}/example.net/vpasswd.cdb"
    set_vpasswd_hash(cdb, "rita", SHA512_HUGE)
    set_vpasswd_hash(cdb, "ursula", BCRYPT_HUGE)
    ursula = ("ursula@example.net", "Ursula-net-3")
    names = ["$6$ rounds=999999999: temporary failure", "$6$ rounds=999999999: answered within 5 s",
             "$6$ rounds=999999999: the log mentions max_crypt_rounds",
             "$2b$ cost 31: temporary failure", "$2b$ cost 31: answered within 5 s",
             "$2b$ cost 31: the log mentions max_bcrypt_cost",
             "after the costly hashes a normal login succeeds within 5 s"]
    with scenario_dovecot(args, checks, "attack-hash-cost", config("vpopmail", VP_ARGS), ALICE) as dc:
        if dc is None:
            not_run(checks, names, "no usable Dovecot")
        else:
            mark = log_mark(dc)
            (r6, o6, s6), (rb, ob, sb) = concurrently(attempt, [(dc, *RITA), (dc, *ursula)])
            checks.check(names[0], r6 == "tempfail", f"{r6}: {o6.strip()}")
            checks.check(names[1], s6 < 5, f"{s6:.1f} s")
            checks.check(names[2], logged(dc, mark, "max_crypt_rounds") is not None, dc.tail(10))
            checks.check(names[3], rb == "tempfail", f"{rb}: {ob.strip()}")
            checks.check(names[4], sb < 5, f"{sb:.1f} s")
            checks.check(names[5], logged(dc, mark, "max_bcrypt_cost") is not None, dc.tail(10))
            ok, out, secs = attempt(dc, *ZOE)
            checks.check(names[6], ok == "ok" and secs < 5, f"{ok} in {secs:.1f} s: {out.strip()}")

    # In the auth workers (blocking=yes): three such hashes at once must not occupy them.
    with in_workers(args, checks, lambda a: config("vpopmail", a), VP_ARGS) as dc:
        mark = log_mark(dc)
        results = concurrently(attempt, [(dc, *RITA)] * 3)
        checks.check("workers: 3 concurrent $6$ rounds=999999999 logins are temporary failures",
                     all(r[0] == "tempfail" for r in results), str([r[0] for r in results]))
        checks.check("workers: each answered within 5 s", all(r[2] < 5 for r in results),
                     str([round(r[2], 1) for r in results]))
        checks.check("workers: the log mentions max_crypt_rounds", logged(dc, mark, "max_crypt_rounds") is not None,
                     dc.tail(10))
        ok, out, secs = attempt(dc, *ZOE)
        checks.check("workers: then a normal login succeeds within 5 s",
                     ok == "ok" and secs < 5, f"{ok} in {secs:.1f} s: {out.strip()}")


# 9. uid/gid 0: a vpopmail domain owned by root; vmailmgr "base users" that are system accounts

def set_assign(domain, uid, gid):
    cdb = f"{ROOT}/qmail/users/cdb"
    records = []
    for k, v in read_records(cdb):
        if k == f"!{domain}-".encode():
            f = v.split(b"\0")
            f[1], f[2] = str(uid).encode(), str(gid).encode()
            v = b"\0".join(f)
        records.append((k, v))
    write_replace(cdb, records, 0, 0, mode=0o644)
    assign = f"{ROOT}/qmail/users/assign"
    lines = []
    for line in open(assign):
        f = line.split(":")
        if f[0] == f"+{domain}-":
            f[2], f[3] = str(uid), str(gid)
        lines.append(":".join(f))
    write_file(assign, "".join(lines).encode(), (0, 0), 0o644)


def uid_zero(args, checks):
    install(args, "vpopmail")
    set_assign("example.net", 0, 89)
    set_assign("imapoff.example", 89, 0)
    cases = [("uid 0", RITA), ("gid 0", ("victor@imapoff.example", "Victor-io-1"))]
    with scenario_dovecot(args, checks, "attack-uid0-vpopmail", config("vpopmail", VP_ARGS), ALICE) as dc:
        for what, login in cases:
            name = f"vpopmail domain with {what}"
            names = [f"{name}: login is a temporary failure", f"{name}: the log has a store fault naming {what}"]
            if dc is None:
                not_run(checks, names, "no usable Dovecot")
                continue
            mark = log_mark(dc)
            result, out, _ = attempt(dc, *login)
            checks.check(names[0], result == "tempfail", f"{result}: {out.strip()}")
            checks.check(names[1], logged(dc, mark, FAULT, what) is not None, dc.tail(10))
            rc, fields, out, _ = lookup(dc, login[0])
            print(f"{name}: doveadm user {login[0]}: exit {rc}, uid {fields.get('uid')} gid {fields.get('gid')}")

    install(args, "vmailmgr")
    names = [f"vmailmgr {b}-x@localhost (system account below first_valid_uid): unknown user"
             for b in ("root", "daemon", "bin")]
    with scenario_dovecot(args, checks, "attack-uid0-vmailmgr", config("vmailmgr", VM_ARGS), VM_ALICE) as dc:
        if dc is None:
            return not_run(checks, names + ["vmailmgr system accounts: no Error line in the log"], "no usable Dovecot")
        mark = log_mark(dc)
        for base, name in zip(("root", "daemon", "bin"), names):
            result, out, _ = attempt(dc, f"{base}-x@localhost", "x")
            checks.check(name, result == "fail", f"{result}: {out.strip()}")
        logged(dc, mark, "bin-x@localhost", timeout=3)
        time.sleep(0.3)
        errors = [l for l in dc.log_text()[mark:].splitlines() if "Error" in l]
        checks.check("vmailmgr system accounts: no Error line in the log", not errors, "\n".join(errors[:5]))


# 10. vmailmgr mailbox directories outside the base home

def vmailmgr_home_outside(args, checks):
    install(args, "vmailmgr")
    elsewhere = root_dir(f"{ATTACK}/elsewhere")
    root_dir(f"{ATTACK}/elsewhere2")
    cdb = f"{VM_HOMES}/legacy/passwd.cdb"
    set_record(cdb, "outside", f":$0$Outside-pw1:{elsewhere}".encode(), LEGACY)
    set_record(cdb, "v2out", vmailmgr_v2("$0$V2out-pw1", f"{ATTACK}/elsewhere2"), LEGACY)
    base_home = f"{VM_HOMES}/legacy"
    names = ["vmailmgr colon record with an absolute dir outside the base home: userdb temporary failure (exit 75)",
             "vmailmgr colon record outside the base home: the log names the fault",
             "vmailmgr v2 record with an absolute dir: not resolved outside the base home"]
    with scenario_dovecot(args, checks, "attack-vm-home-outside", config("vmailmgr", VM_ARGS), VM_ALICE) as dc:
        if dc is None:
            not_run(checks, names, "no usable Dovecot")
        else:
            mark = log_mark(dc)
            rc, fields, out, _ = lookup(dc, "outside@example.com")
            checks.check(names[0], rc == 75, f"exit {rc}: {out.strip()}")
            checks.check(names[1], fault_logged(dc, mark, elsewhere) is not None, dc.tail(10))
            rc, fields, out, _ = lookup(dc, "v2out@example.com")
            home = fields.get("home", "")
            print(f"v2 record with directory {ATTACK}/elsewhere2: doveadm user exit {rc}, home {home!r}")
            checks.check(names[2], rc == 75 or (rc == 0 and home.startswith(base_home + "/")),
                         f"exit {rc}: {out.strip()}")
            result, out, _ = attempt(dc, "outside@example.com", "Outside-pw1")
            print(f"colon record outside the base home: passdb {result}")

    name = "vmailmgr colon record under home_roots"
    with scenario_dovecot(args, checks, "attack-vm-home-roots", config("vmailmgr", VM_ARGS + f" home_roots={ATTACK}"),
                          VM_ALICE) as dc:
        if dc is None:
            return not_run(checks, [f"{name}: userdb resolves it"], "no usable Dovecot (home_roots= not accepted?)")
        rc, fields, out, _ = lookup(dc, "outside@example.com")
        checks.check(f"{name}: userdb resolves it", rc == 0 and fields.get("home") == elsewhere, f"exit {rc}: {out.strip()}")


ATTACKS = [("1 vpopmail home outside the domain", home_outside_vpopmail),
           ("2 user dir symlinked to a root dir", symlinked_user_dir),
           ("3 hard links at lastauth temp names", hardlinked_tmp),
           ("4 vmailmgr password-file escape", password_file_escape),
           ("5 store files symlinked to root-only copies", symlinked_store),
           ("6 FIFOs", fifos),
           ("7 in-place truncation under load", truncation),
           ("8 hash costs", hash_cost),
           ("9 uid/gid 0", uid_zero),
           ("10 vmailmgr homes outside the base home", vmailmgr_home_outside)]
# run_store.py --only NAME runs one of them (the function's name)
SCENARIOS = [fn.__name__ for _, fn in ATTACKS]


def run(args, checks):
    started = time.monotonic()
    try:
        for title, fn in ATTACKS:
            if not checks.scenario(fn.__name__):
                continue
            t = time.monotonic()
            root_dir(ATTACK)
            try:
                fn(args, checks)
            finally:
                remove(ATTACK)
            print(f"--- scenario {title}: {time.monotonic() - t:.1f} s")
    finally:
        remove(ATTACK)
        for store in ("vpopmail", "vmailmgr"):
            install(args, store)
    print(f"attacks: {time.monotonic() - started:.1f} s")
