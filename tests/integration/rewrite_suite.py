"""Live rewrites: while a load generator logs 10 users in continuously (many requests in
flight on the auth-client socket), another thread replaces the same store file with
tmp + rename 1000 times, adding and removing other users. No login of the 10 may fail, and
a user added by a rewrite must log in on the next lookup."""

import crypt
import threading
import time
import warnings

from auth_client import AuthClient
from cdb_write import read_records, write_replace
from dovecot_harness import Dovecot
import vmailmgr_suite
import vpopmail_suite
import fixtures  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)
from fixtures import ROOT  # noqa: E402
REWRITES = 1000
IN_FLIGHT = 16

VPOPMAIL_USERS = [("alice", "Alice-pw1"), ("frank", "Frank-pw6"), ("grace", "Grace-pw7"), ("heidi", "heidipw8"),
                  ("ivan", "Ivan-sha256"), ("leo", "Leo-new-2"), ("mallory", "correct horse battery"),
                  ("nina", "n1:na:pw"), ("pat", "Pat-pw9"), ("postmaster", "Postm4ster!")]
VMAILMGR_USERS = [("alice", "Alice-Pass-1"), ("bob.smith", "B0b-second"), ("carol", "Carol#pw3"),
                  ("frank", "Frank-2100"), ("gina", "Gina-disabled"), ("hank", "Hank-quota"),
                  ("dave", "Dave-abs"), ("paul", "Plain-Pass"), ("alice-foo", "AliceFoo-pw"), ("info", None)]


def vpopmail_record(name, password, domain_dir):
    h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_MD5))
    return name.encode(), f"{h}:1:0:{name}:{domain_dir}/{name}:NOQUOTA".encode()


def vmailmgr_record(name, password):
    z = b"\0"
    return name.encode(), (b"\x02\x0a\x01\x08\x01\x00" + f"$0${password}".encode() + z + f"./users/{name}".encode() + z
                           + z + b"churn" + z + b"-\0-\0-\0-\0" + b"1795294514\0" + b"-\0")


def churn(path, base_records, make, owner, stop, stats, probe):
    """Rewrites path REWRITES times, and on while the login load has not made as many logins
    (a slow machine, a sanitizer build: the load must overlap the rewrites, not follow them),
    up to 5 x REWRITES or 60 s; every 100th adds user newNNNN and logs it in at once."""
    deadline = time.time() + 60
    i = 0
    while i < REWRITES or (stats["logins"] <= REWRITES and i < 5 * REWRITES and time.time() < deadline):
        extra = [make(f"churn{i}-{j}", "x") for j in range(i % 5)]
        if i % 100 == 99:
            extra.append(make(f"new{i}", f"New-pw-{i}"))
        write_replace(path, base_records + extra, *owner)
        stats["rewrites"] += 1
        if i % 100 == 99:
            stats["new_checked"] += 1
            if probe(f"new{i}", f"New-pw-{i}") != "ok":
                stats["new_failed"] += 1
        i += 1
    stop.set()


def load(sock, users, domain, stop, stats, errors):
    client = AuthClient(sock)
    pending = {}
    n = 0

    def send():
        nonlocal n
        name, pw = users[n % len(users)]
        n += 1
        rid = client.send_plain(f"{name}@{domain}", pw)
        pending[rid] = name

    for _ in range(IN_FLIGHT):
        send()
    while pending:
        rid, result, fields = client.read_result()
        name = pending.pop(rid)
        stats["logins"] += 1
        if result != "ok":
            stats["failed"] += 1
            errors.append(f"{name}: {result} {fields}")
        if not stop.is_set():
            send()
    client.close()


def run_one(args, checks, store, db_config, path, owner, users, domain, make):
    base = read_records(path)
    with Dovecot(args.work + f"-rewrite-{store}", args.module_dir, db_config) as dc:
        sock = dc.socket("auth-client")
        probe_client = AuthClient(sock)
        stats = {"logins": 0, "failed": 0, "rewrites": 0, "new_checked": 0, "new_failed": 0}
        errors = []
        stop = threading.Event()
        loader = threading.Thread(target=load, args=(sock, users, domain, stop, stats, errors))
        start = time.time()
        loader.start()
        churn(path, base, make, owner, stop, stats, lambda u, p: probe_client.login(f"{u}@{domain}", p))
        loader.join(timeout=120)
        elapsed = time.time() - start
        probe_client.close()
        print(f"{store}: {stats['rewrites']} rewrites of {path} in {elapsed:.1f} s; "
              f"{stats['logins']} logins of the 10 users, {stats['failed']} failed; "
              f"{stats['new_checked']} new users checked right after their rewrite, {stats['new_failed']} not found")
        checks.check(f"{store}: at least {REWRITES} rewrites done", stats["rewrites"] >= REWRITES)
        checks.check(f"{store}: logins ran during the rewrites", stats["logins"] > REWRITES, str(stats))
        checks.check(f"{store}: zero failed logins for the unchanged users", stats["failed"] == 0, "\n".join(errors[:10]))
        checks.check(f"{store}: users added by a rewrite log in on the next lookup", stats["new_failed"] == 0, str(stats))


# run_store.py --only NAME runs one of them
SCENARIOS = ["vpopmail", "vmailmgr"]


def run(args, checks):
    for store in ("vpopmail", "vmailmgr"):
        fixtures.install(args.fixtures, store)
    try:
        if checks.scenario("vpopmail"):
            dom = f"{ROOT}/vpopmail/domains/example.com"
            run_one(args, checks, "vpopmail", vpopmail_suite.db_config(), f"{dom}/vpasswd.cdb", (89, 89),
                    VPOPMAIL_USERS, "example.com", lambda n, p: vpopmail_record(n, p, dom))
        if checks.scenario("vmailmgr"):
            users = [u for u in VMAILMGR_USERS if u[1] is not None]
            run_one(args, checks, "vmailmgr", vmailmgr_suite.db_config(), f"{ROOT}/vmailmgr/exorg/passwd.cdb",
                    (2101, 2101), users, "example.org", vmailmgr_record)
    finally:
        for store in ("vpopmail", "vmailmgr"):
            fixtures.install(args.fixtures, store)
