"""One owner's slow hashes against another owner's logins, on the verification threads.

A vmailmgr base user (exnet) gives its user bcrypt hashes at a cost the cap allows and keeps 64
wrong-password logins in flight over the auth-client protocol; a user of another base user
(exorg, MD5-crypt) logs in meanwhile. Its logins must not wait behind the attacker's hashes:
the attacker holds at most a share of the threads and of the queue, what is over it is a
temporary failure for the attacker only, logged once with the owner named."""

import os
import threading
import time
import warnings

from attack_tools import (EXNET, VM_ALICE, VM_ARGS, VM_HOMES, VictimLogins, config, install, log_mark, logged,
                          scenario_dovecot, set_record, vmailmgr_v2)
from auth_client import AuthClient

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

TITLE = "fair verification threads: an owner's slow hashes do not delay another owner's logins"

IN_FLIGHT = 64
BCRYPT_COST = 14        # at max_bcrypt_cost's default: about a second each here
WARM_UP = 2.0           # the attacker's burst is under way before the victim is measured
VICTIM_FOR = 8.0
WORST_ALLOWED = 0.5
ATTACKER = ("ned@example.net", "not-neds-password")


def bcrypt_hash(password, cost):
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2 ** cost))


class Attack:
    """Keeps IN_FLIGHT wrong-password logins of the attacker's user in flight on one
    auth-client connection until stopped; counts the answers."""

    def __init__(self, dc):
        self.client = AuthClient(dc.socket("auth-client"), timeout=60)
        self.answers = {}
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            for _ in range(IN_FLIGHT):
                self.client.send_plain(*ATTACKER)
            while not self._stop.is_set():
                result = self.client.read_result()[1]
                self.answers[result] = self.answers.get(result, 0) + 1
                if result == "tempfail":
                    time.sleep(0.01)  # as a client retrying at once would, without spinning
                self.client.send_plain(*ATTACKER)
        except OSError as e:
            if not self._stop.is_set():
                self.errors.append(str(e))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.client.close()  # the requests still pending are the attacker's own
        self._thread.join(timeout=5)


def run(args, checks, figures):
    install(args, "vmailmgr")
    store = f"{VM_HOMES}/exnet/passwd.cdb"
    # as the base user's own vpasswd would write it: its file, its uid, mode 600
    set_record(store, "ned", vmailmgr_v2(bcrypt_hash("Ned-bcrypt-1", BCRYPT_COST), "./users/ned"), EXNET)
    name = "fair_threads"
    with scenario_dovecot(args, checks, name, config("vmailmgr", VM_ARGS), VM_ALICE) as dc:
        if dc is None:
            return
        mark = log_mark(dc)
        with Attack(dc) as attack:
            time.sleep(WARM_UP)
            with VictimLogins(dc, *VM_ALICE) as victim:
                time.sleep(VICTIM_FOR)
        summary = victim.summary()
        figures("victim login latency, 64 bcrypt logins of another base user in flight", summary)
        print(f"{name}: attacker's answers {attack.answers} {attack.errors}")
        checks.check(f"{name}: the victim's logins all succeed", victim.all_ok(), summary)
        checks.check(f"{name}: the victim's worst login under {WORST_ALLOWED} s", victim.worst() < WORST_ALLOWED,
                     summary)
        checks.check(f"{name}: the attacker's logins over its share are temporary failures",
                     attack.answers.get("tempfail", 0) > 0 and attack.answers.get("ok", 0) == 0, str(attack.answers))
        line = logged(dc, mark, "Error", "owner exnet", "temporary failure", timeout=2)
        checks.check(f"{name}: the log names the owner over its share", line is not None, dc.tail(10))
        lines = [ln for ln in dc.log_text()[mark:].splitlines() if "owner exnet" in ln]
        checks.check(f"{name}: the refusals are logged once per interval, not per login", len(lines) <= 2,
                     f"{len(lines)} lines for {attack.answers.get('tempfail', 0)} refusals")
