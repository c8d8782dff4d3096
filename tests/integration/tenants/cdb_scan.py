"""A cdb that makes every lookup scan: the owner of a store (the vpopmail uid for a domain's
vpasswd.cdb, a vmailmgr base user for its passwd.cdb) writes a valid-looking cdb whose 256
header entries all point at one big hash table with no empty slot, each slot holding the hash
of the name the owner then asks for. The build before read every slot and every record they
point at, on the auth process's event loop (seconds per lookup); every other tenant's login
waited behind it. Now a lookup reads a bounded number of slots: the store answers a temporary
failure at once with a logged reason, and the other tenant's logins stay fast."""

import os
import struct
import threading
import time

from attack_tools import (ALICE, ANSWER_WITHIN, RITA, VM_ALICE, VM_ARGS, VM_HOMES, VM_NED, VP_ARGS, VP_DOMAINS,
                          VPOPMAIL, VictimLogins, attempt, config, fault_logged, install, log_mark, not_run,
                          scenario_dovecot, write_file)
from cdb_write import cdb_hash

TITLE = "a cdb that makes every lookup scan"

SLOTS = 1 << 20       # 8 MiB of slots: past the size the build before copied at open (8 MiB),
                      # 7-15 s per lookup there (one pread per matching slot)
FAST = 1.0            # a refused lookup answers within this
VICTIM_WORST = 0.5    # the goal for another tenant's login under the attack


def hostile_cdb(key, slots=SLOTS):
    """One record (another key) and one table of `slots` slots, none empty, all with key's
    hash and pointing at that record; every header entry points at the table."""
    record = struct.pack("<II", 5, 1) + b"other" + b"x"
    table = 2048 + len(record)
    header = struct.pack("<II", table, slots) * 256
    slot = struct.pack("<II", cdb_hash(key), 2048)
    return header + record + slot * slots


def owner_of(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid


def keep_asking(dc, login, stop, answers):
    """The attacker: the same lookup again and again (no password needed) until stop."""
    while not stop.is_set():
        answers.append(attempt(dc, login, "whatever"))


def attack(args, checks, figures, *, store, conf, victim, cdb_path, owner, hostile_login, hostile_key, other_login):
    name = f"{store} cdb scan"
    names = [f"{name}: the hostile name is a temporary failure",
             f"{name}: it is answered within {FAST} s",
             f"{name}: another name of that store is a temporary failure too",
             f"{name}: the log names the fault and the file",
             f"{name}: {victim[0]} (another tenant) logs in throughout",
             f"{name}: {victim[0]}'s logins answered within {VICTIM_WORST} s under the attack"]
    with scenario_dovecot(args, checks, f"tenant-cdb-scan-{store}", conf, victim) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot")
        with VictimLogins(dc, *victim) as quiet:  # doveadm's own time on this machine, for comparison
            time.sleep(2)
        figures(f"{name}: {victim[0]}'s logins before the attack", quiet.summary())
        write_file(cdb_path, hostile_cdb(hostile_key), owner, 0o600)  # renamed over, as the tools do
        mark = log_mark(dc)
        result, out, secs = attempt(dc, hostile_login, "whatever", timeout=ANSWER_WITHIN + 30)
        figures(f"{name}: one lookup of the hostile name", f"{secs * 1000:.0f} ms ({result})")
        checks.check(names[0], result == "tempfail", f"{result}: {out.strip()}")
        checks.check(names[1], secs < FAST, f"{secs:.2f} s")
        result, out, secs = attempt(dc, other_login, "whatever", timeout=ANSWER_WITHIN + 30)
        checks.check(names[2], result == "tempfail", f"{result} in {secs:.2f} s: {out.strip()}")
        checks.check(names[3], fault_logged(dc, mark, cdb_path) is not None, dc.tail(10))

        stop, answers = threading.Event(), []
        attackers = [threading.Thread(target=keep_asking, args=(dc, hostile_login, stop, answers)) for _ in range(2)]
        with VictimLogins(dc, *victim) as v:
            for t in attackers:
                t.start()
            time.sleep(4)
            stop.set()
            for t in attackers:
                t.join()
        figures(f"{name}: {victim[0]}'s logins while 2 clients ask for the hostile name",
                f"{v.summary()}; {len(answers)} hostile lookups")
        checks.check(names[4], v.all_ok(), v.summary())
        checks.check(names[5], v.worst() < VICTIM_WORST, v.summary())


def run(args, checks, figures):
    install(args, "vpopmail")
    cdb = f"{VP_DOMAINS}/example.net/vpasswd.cdb"
    attack(args, checks, figures, store="vpopmail", conf=config("vpopmail", VP_ARGS), victim=ALICE,
           cdb_path=cdb, owner=VPOPMAIL, hostile_login="x@example.net", hostile_key=b"x",
           other_login=RITA[0])

    install(args, "vmailmgr")
    # example.net's base user (exnet) turns hostile; alice@example.org belongs to exorg.
    cdb = f"{VM_HOMES}/exnet/passwd.cdb"
    if not os.path.exists(cdb):
        return not_run(checks, ["vmailmgr cdb scan"], f"no {cdb} in the fixtures")
    attack(args, checks, figures, store="vmailmgr", conf=config("vmailmgr", VM_ARGS), victim=VM_ALICE,
           cdb_path=cdb, owner=owner_of(cdb), hostile_login="x@example.net", hostile_key=b"x",
           other_login=VM_NED[0])
