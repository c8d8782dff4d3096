"""Hashes whose cost the cap did not read: Sun MD5 in its `$md5$rounds=N$` spelling (only
`$md5,rounds=` was capped) and scrypt `$7$` with a large p (p was not read), each set by a store
owner on users of its own domain (vpopmail) or base user (vmailmgr), as valid-looking hashes.
The build before hashed them: 5,000,000 Sun MD5 rounds take seconds per wrong-password login,
scrypt p = 20000 over 1 MiB takes minutes, and a few such logins held every verification thread
while another tenant's login waited behind them. Now the cap reads every form as libxcrypt
does: each such login is a temporary failure answered at once with a log line naming the
setting that refused it (max_crypt_rounds, max_yescrypt_mib), and another tenant's logins keep
their pace meanwhile."""

import random
import time

from attack_tools import (ALICE, VM_ALICE, VM_ARGS, VM_HOMES, VP_ARGS, VP_DOMAINS, VPOPMAIL, VictimLogins, attempt,
                          concurrently, config, install, log_mark, logged, not_run, scenario_dovecot, set_record,
                          vmailmgr_v2, vpasswd_value)

TITLE = "costly hash forms the cap did not read"

EXNET = (2102, 2102)  # vmailmgr base user exnet, the owner of its passwd.cdb
ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ANSWERED_WITHIN = 2.0  # a refused login is answered at once; this leaves room for a loaded CI host
VICTIM_WORST = 2.0     # the build before held the victim 6-8 s
ATTACK_SECONDS = 4     # attackers keep logins in flight this long
ATTACKER_TIMEOUT = 6   # a login of the build before is given up after this (it hashes for longer)


def chars(n, rng):
    return "".join(rng.choice(ITOA64) for _ in range(n))


def sunmd5_hash(rounds, rng):
    """Sun MD5 as Solaris and libxcrypt write it, in the `$md5$rounds=` spelling."""
    return f"$md5$rounds={rounds}${chars(8, rng)}$${chars(22, rng)}"


def fixed64(value, n):
    return "".join(ITOA64[(value >> (6 * i)) & 63] for i in range(n))


def scrypt_hash(n_log2, r, p, rng):
    """scrypt as libxcrypt writes it: $7$, N as one character, r and p in five each."""
    return f"$7${ITOA64[n_log2]}{fixed64(r, 5)}{fixed64(p, 5)}{chars(22, rng)}${chars(43, rng)}"


# name: (hash, the setting the log must name, what it is)
def attacker_hashes(rng):
    return {
        "md5rounds": (sunmd5_hash(5000000, rng), "max_crypt_rounds", "Sun MD5 $md5$rounds=5000000$"),
        "scryptp": (scrypt_hash(10, 8, 20000, rng), "max_yescrypt_mib", "scrypt $7$ N=2^10 r=8 p=20000"),
    }


def attack(args, checks, figures, store, conf, victim, domain, users):
    names = []
    for user, (_, setting, what) in users.items():
        names += [f"{store} {what}: a wrong password is a temporary failure answered within {ANSWERED_WITHIN:.0f} s",
                  f"{store} {what}: the log names {setting}"]
    names.append(f"{store} costly hashes: another tenant's logins keep working, none slower than "
                 f"{VICTIM_WORST:.0f} s")
    with scenario_dovecot(args, checks, f"tenant-hash-cost-{store}", conf, victim) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot")
        mark = log_mark(dc)
        logins = [(dc, f"{user}@{domain}", "Wrong-pw-1", ATTACKER_TIMEOUT) for user in users]
        first = dict(zip(users, concurrently(attempt, logins)))
        i = 0
        for user, (_, setting, what) in users.items():
            result, out, secs = first[user]
            checks.check(names[i], result == "tempfail" and secs < ANSWERED_WITHIN,
                         f"{result} after {secs:.2f} s: {out.strip()}")
            line = logged(dc, mark, "store fault (temporary failure)", setting, timeout=2)
            checks.check(names[i + 1], line is not None, dc.tail(10))
            i += 2
        # Attackers keep two logins of each costly user in flight while the victim logs in.
        with VictimLogins(dc, *victim) as v:
            deadline = time.monotonic() + ATTACK_SECONDS
            while time.monotonic() < deadline:
                concurrently(attempt, logins * 2)
        checks.check(names[-1], v.all_ok() and v.worst() < VICTIM_WORST, v.summary())
        figures(f"victim login latency while costly hashes are tried ({store})", v.summary())


def run(args, checks, figures):
    rng = random.Random(25)

    install(args, "vpopmail")
    users = attacker_hashes(rng)
    cdb = f"{VP_DOMAINS}/example.net/vpasswd.cdb"
    for user, (hashed, _, _) in users.items():
        set_record(cdb, user, vpasswd_value(hashed, f"{VP_DOMAINS}/example.net/{user}"), VPOPMAIL)
    attack(args, checks, figures, "vpopmail", config("vpopmail", VP_ARGS), ALICE, "example.net", users)

    install(args, "vmailmgr")
    users = attacker_hashes(rng)
    cdb = f"{VM_HOMES}/exnet/passwd.cdb"
    for user, (hashed, _, _) in users.items():
        set_record(cdb, user, vmailmgr_v2(hashed, f"./users/{user}"), EXNET)
    attack(args, checks, figures, "vmailmgr", config("vmailmgr", VM_ARGS), VM_ALICE, "example.net", users)
