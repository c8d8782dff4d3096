"""vmailmgr against a real Dovecot: every line of the fixture's verdicts.jsonl through doveadm,
userdb fields, iteration, and real IMAP/POP3 logins including the colon path users/Bob:Smith."""

import os
import re
import subprocess
import time

from dovecot_harness import (Dovecot, driver_config, doveconf_n, base_config, examples_dir, expected_mail_fields,
                              expected_quota_fields, in_workers, check_store_broker, is_24)
from mail_clients import IMAP, imap_login, pop3_login
from auth_client import AuthClient
import fixtures  # noqa: E402
import verdicts  # noqa: E402

from fixtures import ROOT  # noqa: E402
ARGS = f"qmail_dir={ROOT}/vm-qmail config_dir={ROOT}/vm-etc"

# checkvpw refuses a record it cannot decode like an unknown user. The driver refuses it too,
# but as a temporary failure with a logged store fault: a corrupt store is the postmaster's
# problem, not a wrong password.
CORRUPT_RECORDS = {"v2badflag@example.com", "v2trail@example.com", "v2short@example.com", "v3@example.com"}


def db_config(args=ARGS):
    return driver_config("vmailmgr", args)


def expected_quota(exp):
    def limit(v):
        return None if v == "-" else int(v)
    return expected_quota_fields(limit(exp["hardquota"]), limit(exp["msgcount"]))


def replay_verdicts(dc, fixtures_dir, checks, label=""):
    def run_row(n, row):
        extra = {"local_name": row["tcplocalhost"]} if "tcplocalhost" in row else None
        result, out = dc.auth_test(row["login"], row["password"], row["service"], "127.0.0.2", extra)
        want = "ok" if row["ok"] else ("tempfail" if row["login"] in CORRUPT_RECORDS else "fail")
        same = result == want
        detail = "" if same else out.strip().replace("\n", " | ")
        if same and row["ok"]:
            # doveadm user cannot pass a local name; a login resolves a domainless name to
            # user@domain (the passdb's user field), which is what the userdb then sees.
            m = re.search(r"^\s*user=(.*)$", out, re.M)
            login = m.group(1) if extra and m else row["login"]
            exp = row["expected"]
            problems = verdicts.userdb_problems(dc, login, row["service"], {
                "home": exp["home"],
                "uid": str(exp["uid"]),
                "gid": str(exp["gid"]),
                **expected_mail_fields(exp["home"]),
                **expected_quota(exp),
                "vmailmgr_personal": exp["personal"],
                "vmailmgr_ctime": exp["ctime"] or "0",
                "vmailmgr_expiry": exp["expiry"],
                "vmailmgr_base_user": exp["base_user"],
                "vmailmgr_mailbox_enabled": exp["mailbox_enabled"],
            })
            if problems:
                same, detail = False, "; ".join(problems)
        return same, detail, (row["login"][:34], row["service"], row.get("tcplocalhost", ""),
                              "ok" if row["ok"] else "refused", result)

    verdicts.replay(checks, verdicts.load(fixtures_dir, "vmailmgr"), run_row, label, "vmailmgr",
                    ("login", "service", "local_name", "checkvpw", "driver"))


def deliver(maildir, owner, body):
    """Drops a message into maildir/new the way qmail-local would, as the mailbox owner."""
    name = f"{int(time.time())}.{os.getpid()}_{len(os.listdir(os.path.join(maildir, 'new')))}.vstore-test"
    path = os.path.join(maildir, "new", name)
    with open(path, "w") as f:
        f.write(body)
    subprocess.run(["chown", owner, path], check=True)


def check_clients(dc, checks):
    bob = f"{ROOT}/vmailmgr/exorg/users/Bob:Smith"
    deliver(bob, "exorg:exorg", "From: a@example.org\r\nSubject: for Bob\r\n\r\nhello\r\n")
    ok, detail, exists = imap_login(dc.imap_port, "bob.smith@example.org", "B0b-second")
    checks.check("IMAP LOGIN bob.smith@example.org sees the message in users/Bob:Smith", ok and exists == 1,
                 f"{detail} exists={exists}")
    # APPEND lands under users/Bob:Smith on disk (stock Dovecot, mail field with '::')
    try:
        c = IMAP(dc.imap_port)
        c.login("bob.smith@example.org", "B0b-second")
        typ, _ = c.append("INBOX", None, None, b"From: b@example.org\r\nSubject: appended\r\n\r\nx\r\n")
        c.logout()
        files = os.listdir(os.path.join(bob, "cur")) + os.listdir(os.path.join(bob, "new"))
        checks.check("IMAP APPEND as bob.smith lands in users/Bob:Smith", typ == "OK" and len(files) == 2,
                     f"{typ} {files}")
    except Exception as e:
        checks.check("IMAP APPEND as bob.smith lands in users/Bob:Smith", False, str(e))
    checks.check("nothing was created at the cut path users/Bob", not os.path.exists(f"{ROOT}/vmailmgr/exorg/users/Bob"))
    ok, detail, count = pop3_login(dc.pop3_port, "alice@example.org", "Alice-Pass-1")
    checks.check("POP3 USER/PASS alice@example.org", ok and count == 0, detail)
    ok, detail, _ = pop3_login(dc.pop3_port, "info@example.org", "*")
    checks.check("POP3 login to an alias is refused", not ok, detail)
    ok, detail, _ = imap_login(dc.imap_port, "jöhn@example.org", "Jöhn-pw")
    checks.check("IMAP LOGIN jöhn@example.org (signed-char hash key)", ok, detail)


# Mailbox-bearing accounts no login can reach: checkvpw turns info-desk@example.biz into
# vm-info-desk and finds base users right to left, so it is always vm-info's desk
# (tests/fixtures/README.md, vmailmgr users). The listing must leave it out, not list a name
# that looks up another mailbox.
UNREACHABLE = {("vm", "info-desk")}
BASES = ("exorg", "exnet", "vm-info", "legacy", "vm")


def _number_ok(field):
    n = field.lstrip(b" \t\n\r\v\f")
    if n.startswith(b"-"):
        n = n[1:]
    return n == b"" or (n.isdigit() and int(n) <= 0xffffffff)


def mailbox_dir(value):
    """The directory of a passwd.cdb record that has a mailbox, decoded as the driver does
    (docs/formats.md II.5); None for aliases, forward-only entries and records that do not
    decode."""
    if value[:1] == b":":
        if b"\0" in value or b":" not in value[1:]:
            return None
        dest = value[1:].split(b":", 1)[1]
        return dest if dest[:1] in (b".", b"/") else None
    if value[:1] not in (b"\x01", b"\x02"):
        return None
    pos, has_mailbox = 1, True
    while value[0] == 2:  # attribute pairs up to a 0 attribute
        if pos >= len(value):
            return None
        attr, pos = value[pos], pos + 1
        if attr == 0:
            break
        if pos >= len(value) or attr not in (8, 10):
            return None
        if attr == 10:
            has_mailbox = value[pos] != 0
        pos += 1
    fields = value[pos:].split(b"\0")
    # password, directory, forwards and their empty end, personal, six numbers, and the
    # empty string after the last NUL
    try:
        end = fields.index(b"", 2)
    except ValueError:
        return None
    rest = fields[end + 1:]
    if len(rest) != 8 or rest[-1] != b"" or not all(_number_ok(n) for n in rest[1:7]):
        return None
    directory = fields[1]
    if value[0] == 1:
        has_mailbox = directory != b""
    return directory if has_mailbox and directory else None


def mailbox_homes():
    """{(base, virtual name): home} for every mailbox-bearing record of the fixture stores."""
    from cdb_write import read_records
    homes = {}
    for base in BASES:
        base_home = f"{ROOT}/vmailmgr/{base}"
        for key, value in read_records(f"{base_home}/passwd.cdb"):
            d = mailbox_dir(value)
            if d is not None and key:
                homes[(base, os.fsdecode(key))] = os.path.normpath(os.path.join(base_home, os.fsdecode(d)))
    return homes


def check_iteration(dc, checks):
    r = dc.doveadm("user", "*", timeout=120)
    names = r.stdout.split()
    listed = set(names)
    checks.check("doveadm user '*' exits 0", r.returncode == 0, r.stderr)
    checks.check("doveadm user '*' lists no name twice", len(names) == len(listed), " ".join(sorted(names)))
    for must in ("alice@example.org", "bob.smith@example.org", "ned@lists.example.org", "desk@example.info",
                 "bizuser@example.biz", "v1ann@example.com", "oldbox@example.com"):
        checks.check(f"doveadm user '*' lists {must}", must in listed, " ".join(sorted(listed)))
    for mustnot in ("info@example.org", "sales@example.org", "v1fwd@example.com"):
        checks.check(f"doveadm user '*' leaves out alias {mustnot}", mustnot not in listed)
    checks.check("doveadm user '*' leaves out info-desk@example.biz (it is vm-info's desk, not vm's info-desk)",
                 "info-desk@example.biz" not in listed)
    bad, home_of = [], {}
    for u in sorted(listed):
        rc, f, out = dc.user(u)
        if rc != 0 or not f.get("home"):
            bad.append(f"{u}: {out.strip()}")
        else:
            home_of[u] = f["home"]
    checks.check(f"every listed user ({len(listed)}) resolves with doveadm user", not bad, "\n".join(bad[:10]))
    # Each listed name is its own mailbox: an -A mass operation touches every mailbox once.
    homes = set(home_of.values())
    shared = sorted(f"{u} -> {h}" for u, h in home_of.items() if list(home_of.values()).count(h) > 1)
    checks.check(f"the {len(home_of)} listed users look up to {len(home_of)} distinct homes", len(homes) == len(home_of),
                 "\n".join(shared))
    entries = mailbox_homes()
    want = {h for acct, h in entries.items() if acct not in UNREACHABLE}
    checks.check(f"distinct homes ({len(homes)}) = mailbox-bearing entries ({len(entries)}) less the "
                 f"{len(UNREACHABLE)} no login reaches ({len(want)})", homes == want,
                 f"missing {sorted(want - homes)}; unexpected {sorted(homes - want)}")
    print(f"doveadm user '*': {len(names)} names, {len(homes)} distinct homes, {len(entries)} mailbox-bearing "
          f"entries, {len(UNREACHABLE)} unreachable")


def check_log_reasons(dc, checks):
    log = dc.log_text()
    for needle, why in [
        ("the account expired (expiry 1000000000)", "expiry reason"),
        ("the entry is an alias (has_mailbox = 0)", "alias reason"),
        ("is the base user exorg itself, a system account", "system user reason"),
        ("unknown flag 9", "corrupt record reason"),
        ("trailing bytes after the expiry field", "trailing bytes reason"),
        ("found with vmailmgr's signed-char cdb hash", "signed-char retry is logged"),
        ("user nosuch is not in", "unknown user reason"),
    ]:
        checks.check(f"log: {why}", needle in log, f"missing {needle!r}")


def check_example_config(source, work, checks):
    text = base_config(work, 10143, 10110) + "\n".join(
        f"!include {examples_dir(source)}/{n}" for n in ("10-mail-vstore.conf", "auth-vmailmgr.conf.ext")) + "\n"
    r = doveconf_n(text, work)
    checks.check("doveconf -n accepts conf.d-examples/auth-vmailmgr.conf.ext", r.returncode == 0, r.stderr)
    checks.check("doveconf -n shows the vmailmgr passdb and userdb",
                 len(re.findall(r"driver = vmailmgr", r.stdout)) == 2, r.stdout)
    checks.check("the example offers only plain login",
                 re.search(r"^auth_mechanisms = plain login$", r.stdout, re.M), r.stdout)


def check_auth_client(module_dir, work, checks):
    """On the auth-client socket (what login processes and Postfix speak), blocking=yes: a
    success reply holds no empty field."""
    with Dovecot(work + "-authclient", module_dir, db_config(ARGS + " blocking=yes")) as dc, \
            dc.checked(checks, "auth-client: no sanitizer reports"):
        client = AuthClient(dc.socket("auth-client"))
        for login in ("alice@example.org", "ALICE@example.org"):
            for service in ("imap", "smtp"):
                client.send_plain(login, "Alice-Pass-1", service=service)
                _, result, fields = client.read_result()
                checks.check(f"blocking=yes: the passdb reply for {login} ({service}) has no empty field",
                             result == "ok" and "" not in fields, f"{result} {fields}")
        client.close()


def check_both_drivers(args, checks):
    """Both drivers in one Dovecot: one object loaded under two names, each init registering
    its own drivers; a login unknown to the first passdb falls through to the second."""
    import vpopmail_suite
    fixtures.install(args.fixtures, "vpopmail")
    conf = vpopmail_suite.db_config() + db_config()
    with Dovecot(args.work + "-both", args.module_dir, conf) as dc:
        for login, pw in (("alice@example.com", "Alice-pw1"), ("alice@example.org", "Alice-Pass-1")):
            result, out = dc.auth_test(login, pw, "imap", "127.0.0.2")
            checks.check(f"vpopmail + vmailmgr in one Dovecot: {login} logs in", result == "ok", out)
        rc, f, out = dc.user("bob.smith@example.org")
        checks.check("vpopmail + vmailmgr in one Dovecot: userdb falls through to vmailmgr",
                     rc == 0 and f.get("home", "").endswith("users/Bob:Smith"), out)


def check_in_workers(args, checks):
    """blocking=yes: the passdb and userdb in the root auth workers, which read each base
    user's passwd.cdb as that user. Every verdict, again."""
    with in_workers(args, checks, db_config, ARGS) as dc:
        replay_verdicts(dc, args.fixtures, checks, label="workers: ")
        ok, detail, _ = imap_login(dc.imap_port, "bob.smith@example.org", "B0b-second")
        checks.check("workers: IMAP LOGIN bob.smith@example.org", ok, detail)


def check_colon_path(args, checks):
    """Documented limitation of stock Dovecot 2.3: mail_location built from %h cuts the path at
    ':' ("Unknown setting: Smith"). patches/ fixes it; the userdb's own mail field avoids it.
    2.4 has no location string to cut: mail_path = %{home} opens users/Bob:Smith as it is."""
    import colon_path
    ok, exists, on_disk, detail, tail = colon_path.run_maildir_h(args.work + "-maildir-h", args.module_dir, ARGS)
    if is_24():
        checks.check("Dovecot 2.4 with mail_path = %{home} opens users/Bob:Smith", ok,
                     f"exists={exists} on_disk={on_disk} {detail}\n{tail[-3000:]}")
        print(f"stock Dovecot 2.4, mail_path = %{{home}}, bob.smith: login+SELECT ok={ok}, "
              f"EXISTS={exists} (on disk {on_disk}): {detail}")
    else:
        checks.check("stock Dovecot with mail_location = maildir:%h does not open users/Bob:Smith",
                     not ok and "Unknown setting: Smith" in tail, f"exists={exists} on_disk={on_disk} {detail}\n{tail[-3000:]}")
        print(f"stock Dovecot, mail_location = maildir:%h, bob.smith: login+SELECT ok={ok}, "
              f"EXISTS={exists} (on disk {on_disk}): {detail}")


# run_store.py --only NAME runs one of them ("verdicts" includes the log reasons they leave)
SCENARIOS = ["example_config", "verdicts", "iteration", "clients", "store_broker", "auth_client", "both_drivers",
             "workers", "colon_path"]


def run(args, checks):
    fixtures.install(args.fixtures, "vmailmgr", quiet=False)
    if checks.scenario("example_config"):
        check_example_config(args.source, args.work, checks)
    if checks.any_scenario("verdicts", "iteration", "clients", "store_broker"):
        with Dovecot(args.work, args.module_dir, db_config()) as dc, dc.checked(checks):
            replayed = checks.scenario("verdicts")
            if replayed:
                replay_verdicts(dc, args.fixtures, checks)
            if checks.scenario("iteration"):
                check_iteration(dc, checks)
            if checks.scenario("clients"):
                check_clients(dc, checks)
            if replayed:
                check_log_reasons(dc, checks)
            if checks.scenario("store_broker"):
                store = f"{ROOT}/vmailmgr/exorg/passwd.cdb"
                check_store_broker(dc, checks, "bob.smith@example.org", "B0b-second", lambda: os.utime(store))
    if checks.scenario("auth_client"):
        check_auth_client(args.module_dir, args.work, checks)
    if checks.scenario("both_drivers"):
        check_both_drivers(args, checks)
    if checks.scenario("workers"):
        check_in_workers(args, checks)
    if checks.scenario("colon_path"):
        check_colon_path(args, checks)
    fixtures.install(args.fixtures, "vmailmgr")
