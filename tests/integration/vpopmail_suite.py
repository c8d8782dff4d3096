"""vpopmail against a real Dovecot: every line of the fixture's verdicts.jsonl through doveadm,
userdb fields, iteration, real IMAP/POP3/CRAM-MD5 logins and the reasons in the log."""

import glob
import os
import re
import subprocess

from dovecot_harness import (Dovecot, driver_config, doveconf_n, base_config, examples_dir, expected_mail_fields,
                              expected_quota_fields, in_workers, check_store_broker, unknown_arg_error,
                              is_24)
from mail_clients import imap_login, imap_cram_md5, pop3_login
from auth_client import AuthClient
import fixtures  # noqa: E402
import verdicts  # noqa: E402

from fixtures import ROOT  # noqa: E402
ARGS = f"vpopmail_dir={ROOT}/vpopmail qmail_dir={ROOT}/qmail webmail_ips=127.0.0.1"


def db_config(args=ARGS):
    return driver_config("vpopmail", args)


def expected_quota(raw):
    """The userdb quota fields Dovecot should get for a vpasswd quota field (read here
    independently of the driver)."""
    storage = messages = None
    if raw != "" and not raw.startswith("NO"):
        for p in raw.split(","):
            if p.endswith("C"):
                messages = int(p[:-1])
            elif p.endswith("S"):
                storage = int(p[:-1])
    return expected_quota_fields(storage, messages)


def expected_users():
    """user@domain for every line of every real domain's text vpasswd (the tools keep both)."""
    users = set()
    for pwfile in glob.glob(f"{ROOT}/vpopmail/domains/**/vpasswd", recursive=True):
        domain = os.path.basename(os.path.dirname(pwfile))
        with open(pwfile, errors="replace") as f:
            for line in f:
                name = line.split(":", 1)[0]
                if name and ":" in line:
                    users.add(f"{name}@{domain}")
    return users


def replay_verdicts(dc, fixtures_dir, checks, label="", store="vpopmail", after_row=None):
    """Every row of <store>/verdicts.jsonl through Dovecot; after_row(n, row, result), when
    given, checks what else the login should have done (lastauth)."""
    def run_row(n, row):
        result, out = dc.auth_test(row["login"], row["password"], row["service"], row["remote_ip"])
        if after_row is not None:
            after_row(n, row, result)
        want = "ok" if row["ok"] else "fail"
        same = result == want
        detail = "" if same else out.strip().replace("\n", " | ")
        if same and row["ok"]:
            exp = row["expected"]
            problems = verdicts.userdb_problems(dc, row["login"], row["service"], {
                "home": exp["home"], "uid": str(exp["uid"]), "gid": str(exp["gid"]),
                **expected_mail_fields(exp["home"] + "/Maildir"), **expected_quota(exp["quota"])})
            if problems:
                same, detail = False, "; ".join(problems) + f" (quota {exp['quota']!r})"
        return same, detail, (row["login"][:40], row["service"], row["remote_ip"], want, result)

    verdicts.replay(checks, verdicts.load(fixtures_dir, store), run_row, label, store,
                    ("login", "service", "rip", "vchkpw", "driver"))


def check_log_reasons(dc, checks):
    log = dc.log_text()
    for needle, why in [
        ("NO_POP blocks pop3", "bob's pop3 refusal names the flag"),
        ("NO_WEBMAIL blocks imap from a webmail address", "dave's webmail refusal"),
        ("NO_IMAP blocks imap (user flags none, domain limits NO_IMAP)", "imapoff's domain limit"),
        ("vpasswd.cdb is missing; read the text", "nocdb.example fallback is logged"),
        ("domain unknown.example is not in", "unknown domain reason"),
        ("user nobody is not in", "unknown user reason"),
        ("invalid login: domain contains a character", "invalid login reason (two @)"),
    ]:
        checks.check(f"log: {why}", needle in log, f"missing {needle!r}")
    checks.check("log: no store fault on the fixtures", "store fault" not in log,
                 "\n".join(l for l in log.splitlines() if "store fault" in l)[:2000])


def check_iteration(dc, checks):
    r = dc.doveadm("user", "*", timeout=120)
    listed = set(r.stdout.split())
    want = expected_users()
    checks.check("doveadm user '*' exits 0", r.returncode == 0, r.stderr)
    checks.check(f"doveadm user '*' lists every user ({len(want)})", listed == want,
                 f"missing {sorted(want - listed)[:10]}, extra {sorted(listed - want)[:10]}")


def check_clients(dc, checks):
    ok, detail, exists = imap_login(dc.imap_port, "alice@example.com", "Alice-pw1")
    checks.check("IMAP LOGIN alice@example.com + SELECT INBOX", ok and exists == 0, detail)
    ok, detail, _ = imap_login(dc.imap_port, "zoe@deep.example", "Zoe-deep-1")
    checks.check("IMAP LOGIN zoe@deep.example (bigdir domain, SHA-512)", ok, detail)
    ok, detail, _ = imap_login(dc.imap_port, "alice@example.com", "wrong")
    checks.check("IMAP LOGIN with a wrong password is refused", not ok, detail)
    ok, detail, _ = imap_login(dc.imap_port, "carol@example.com", "Carol-pw3")
    checks.check("IMAP LOGIN carol (NO_IMAP) from 127.0.0.2 is refused", not ok, detail)
    ok, detail, _ = imap_login(dc.imap_port, "carol@example.com", "Carol-pw3", source="127.0.0.1")
    checks.check("IMAP LOGIN carol from webmail 127.0.0.1 is allowed", ok, detail)
    ok, detail, count = pop3_login(dc.pop3_port, "rita@example.net", "Rita-net-1")
    checks.check("POP3 USER/PASS rita@example.net", ok and count == 0, detail)
    ok, detail, _ = pop3_login(dc.pop3_port, "bob@example.com", "Bob-pw2")
    checks.check("POP3 bob (NO_POP) is refused", not ok, detail)
    ok, detail = imap_cram_md5(dc.imap_port, "alice@example.com", "Alice-pw1")
    checks.check("IMAP AUTHENTICATE CRAM-MD5 from the clear field", ok, detail)
    ok, detail = imap_cram_md5(dc.imap_port, "alice@example.com", "Alice-pw2")
    checks.check("CRAM-MD5 with a wrong password is refused", not ok, detail)
    ok, detail = imap_cram_md5(dc.imap_port, "rita@example.net", "Rita-net-1")
    checks.check("CRAM-MD5 without a clear field is refused", not ok, detail)


def check_lookup(dc, checks):
    r = dc.doveadm("auth", "lookup", "-x", "service=imap", "alice@alias.example.org")
    checks.check("doveadm auth lookup resolves the alias domain",
                 r.returncode == 0 and "user      : alice@example.com" in r.stdout.replace("\t", " ") or
                 "alice@example.com" in r.stdout, r.stdout + r.stderr)


def check_rewrite(dc, checks):
    """vadduser replaces vpasswd.cdb with tmp + rename: the next lookup must see it."""
    dom = f"{ROOT}/vpopmail/domains/example.net"
    cdb = os.path.join(dom, "vpasswd.cdb")
    dump = subprocess.run(["cdb", "-d", cdb], capture_output=True).stdout
    line = f"newbie:$1$8charslt$mKqw2Hl6vvoVFnQF8tZhm0:1:0:newbie:{dom}/newbie:NOQUOTA"
    result, _ = dc.auth_test("newbie@example.net", "x", "imap", "127.0.0.2")
    checks.check("before the rewrite newbie is unknown", result == "fail")
    key, value = line.split(":", 1)
    rec = f"+{len(key)},{len(value)}:{key}->{value}\n".encode()
    tmp = cdb + ".tmp-test"
    subprocess.run(["cdb", "-c", "-t", tmp + ".t", tmp], input=dump.rstrip(b"\n") + b"\n" + rec + b"\n", check=True)
    os.chown(tmp, 89, 89)
    os.chmod(tmp, 0o600)
    os.rename(tmp, cdb)
    rc, fields, out = dc.user("newbie@example.net")
    checks.check("after tmp+rename the new user is found without a restart",
                 rc == 0 and fields.get("home") == f"{dom}/newbie", out)
    result, _ = dc.auth_test("rita@example.net", "Rita-net-1", "imap", "127.0.0.2")
    checks.check("after the rewrite existing users still log in", result == "ok")


def check_example_config(source, work, checks):
    base = base_config(work, 10143, 10110)
    text = base + "\n".join(
        f"!include {examples_dir(source)}/{name}" for name in (
            "10-mail-vstore.conf", "90-quota-vstore.conf", "auth-vpopmail.conf.ext", "10-master-postfix-sasl.conf")) + "\n"
    r = doveconf_n(text, work)
    checks.check("doveconf -n accepts conf.d-examples/auth-vpopmail.conf.ext", r.returncode == 0, r.stderr)
    checks.check("doveconf -n shows the vpopmail passdb and userdb",
                 len(re.findall(r"driver = vpopmail", r.stdout)) == 2, r.stdout)
    checks.check("the example sets no webmail_ips and offers only plain login",
                 "webmail_ips" not in r.stdout and re.search(r"^auth_mechanisms = plain login$", r.stdout, re.M),
                 r.stdout)
    checks.check("doveconf -n shows the Postfix SASL listener of 10-master-postfix-sasl.conf",
                 "unix_listener /var/spool/postfix/private/auth" in r.stdout, r.stdout)


def check_auth_client(module_dir, work, checks):
    """On the auth-client socket, as login processes and Postfix (smtpd_sasl_type = dovecot)
    speak it, with blocking=yes: a success reply holds no empty field, and service=smtp
    (Postfix SMTP AUTH) is refused for a NO_SMTP user after the right password."""
    with Dovecot(work + "-authclient", module_dir, db_config(ARGS + " blocking=yes")) as dc, \
            dc.checked(checks, "auth-client: no sanitizer reports"):
        client = AuthClient(dc.socket("auth-client"))
        for login in ("alice@example.com", "ALICE@example.com"):
            client.send_plain(login, "Alice-pw1")
            _, result, fields = client.read_result()
            checks.check(f"blocking=yes: the passdb reply for {login} has no empty field",
                         result == "ok" and "" not in fields, f"{result} {fields}")
        for login, pw, service, want, why in (
                ("erin@example.com", "Erin-pw5", "smtp", "fail", "NO_SMTP refuses service=smtp"),
                ("erin@example.com", "Erin-pw5", "imap", "ok", "NO_SMTP does not refuse imap"),
                ("yuri@example.net", "Yuri-net-7", "smtp", "fail", "NO_SMTP|NO_WEBMAIL refuses service=smtp"),
                ("bob@example.com", "Bob-pw2", "smtp", "ok", "NO_POP does not refuse service=smtp")):
            result = client.login(login, pw, service=service)
            checks.check(f"auth-client: {login} service={service}: {why}", result == want, result)
        client.close()


def check_bad_args(module_dir, work, checks):
    dc = Dovecot(work + "-badargs", module_dir, db_config(ARGS + " webmail=127.0.0.1"))
    try:
        dc.start()
        result, out = dc.auth_test("alice@example.com", "Alice-pw1", "imap", "127.0.0.2")
        # the auth process's error may reach the log after the master's "startup failed"
        named = dc.wait_for_log(unknown_arg_error("vpopmail", "webmail"))
        checks.check("an unknown driver arg is a config error naming it", result != "ok" and named,
                     dc.log_text()[-1500:])
    except RuntimeError as e:
        checks.check("an unknown driver arg is a config error naming it",
                     unknown_arg_error("vpopmail", "webmail") in str(e), str(e))
    finally:
        dc.stop()


def check_24_settings(module_dir, work, checks):
    """Dovecot 2.4 only: settings given in a passdb_vpopmail/userdb_vpopmail filter reach the
    driver, and the userdb's `fields { }` apply after the driver's own fields."""
    conf = f"""
passdb_vpopmail {{
  vpopmail_dir = {ROOT}/vpopmail
  vpopmail_qmail_dir = {ROOT}/qmail
}}
userdb_vpopmail {{
  vpopmail_dir = {ROOT}/vpopmail
  vpopmail_qmail_dir = {ROOT}/qmail
}}
passdb vpopmail {{
  driver = vpopmail
}}
userdb vpopmail {{
  driver = vpopmail
  fields {{
    quota_message_count = 77
  }}
}}
"""
    # a value the driver would refuse is refused by doveconf already, with the driver's message
    bad = base_config(work, 10143, 10110) + conf.replace(
        "  vpopmail_qmail_dir = ", "  vpopmail_lastauth = maybe\n  vpopmail_qmail_dir = ", 1)
    r = doveconf_n(bad, work + "-24settings-bad")
    checks.check("2.4: doveconf -n refuses vpopmail_lastauth = maybe, naming the setting",
                 r.returncode != 0 and "vpopmail_lastauth" in r.stderr and "maybe" in r.stderr, r.stdout + r.stderr)
    r = doveconf_n(base_config(work, 10143, 10110) + conf, work + "-24settings-good")
    checks.check("2.4: doveconf -n accepts the same settings with valid values", r.returncode == 0, r.stderr)
    with Dovecot(work + "-24settings", module_dir, conf) as dc:
        result, out = dc.auth_test("frank@example.com", "Frank-pw6", "imap", "127.0.0.2")
        checks.check("2.4: settings in a passdb_vpopmail filter reach the driver", result == "ok", out)
        rc, f, out = dc.user("frank@example.com")
        checks.check("2.4: userdb fields { } apply after the driver's fields",
                     rc == 0 and f.get("quota_storage_size") == "5242880" and f.get("quota_message_count") == "77",
                     out)


def check_in_workers(args, checks):
    """blocking=yes: the passdb and userdb in the root auth workers, which read the store with
    its owners' rights. Every verdict, again."""
    with in_workers(args, checks, db_config, ARGS) as dc:
        replay_verdicts(dc, args.fixtures, checks, label="workers: ")
        ok, detail, _ = imap_login(dc.imap_port, "zoe@deep.example", "Zoe-deep-1")
        checks.check("workers: IMAP LOGIN zoe@deep.example (SHA-512)", ok, detail)
        ok, detail, _ = imap_login(dc.imap_port, "zoe@deep.example", "wrong")
        checks.check("workers: a wrong password is refused", not ok, detail)
        checks.check("workers: the mismatch is logged", dc.wait_for_log("Password mismatch"), dc.tail(20))
        # A credentials lookup answered by a worker: its reply carries the credentials' scheme
        # (2.4.5 takes it from the passdb's answer, and asserts there is none on a failure).
        ok, detail = imap_cram_md5(dc.imap_port, "alice@example.com", "Alice-pw1")
        checks.check("workers: CRAM-MD5 from the clear field", ok, detail)
        ok, detail = imap_cram_md5(dc.imap_port, "alice@example.com", "Alice-pw2")
        checks.check("workers: CRAM-MD5 with a wrong password is refused", not ok, detail)
        ok, detail = imap_cram_md5(dc.imap_port, "rita@example.net", "Rita-net-1")
        checks.check("workers: CRAM-MD5 without a clear field is refused", not ok, detail)
        ok, detail = imap_cram_md5(dc.imap_port, "nobody@example.com", "Nobody-1")
        checks.check("workers: CRAM-MD5 of an unknown user is refused", not ok, detail)
        checks.check("workers: a worker answered the credentials lookups",
                     len(re.findall(r"Handling PASSL request", dc.log_text())) >= 4, dc.tail(20))


def inotify_instances(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:inotify"
        except OSError:
            pass
    return n


def check_one_store(dc, checks):
    """The passdb and the userdb in the auth process, with the same args, share one store: one
    cache and one inotify instance, not one each."""
    rc, _, out = dc.user("frank@example.com")
    checks.check("default: the userdb answers from the auth process", rc == 0, out)
    pids = dc.child_pids("auth")
    counts = [inotify_instances(p) for p in pids]
    checks.check("default: passdb and userdb share one store (one inotify instance in the auth process)",
                 counts == [1], f"auth pids {pids}, inotify instances {counts}")


# run_store.py --only NAME runs one of them ("verdicts" includes the log reasons they leave)
SCENARIOS = ["example_config", "verdicts", "lookup", "iteration", "clients", "rewrite", "one_store", "store_broker",
             "auth_client", "bad_args", "workers", "24_settings"]


def run(args, checks):
    fixtures.install(args.fixtures, "vpopmail", quiet=False)
    if checks.scenario("example_config"):
        check_example_config(args.source, args.work, checks)
    in_dovecot = ("verdicts", "lookup", "iteration", "clients", "rewrite", "one_store", "store_broker")
    if checks.any_scenario(*in_dovecot):
        with Dovecot(args.work, args.module_dir, db_config()) as dc, dc.checked(checks):
            replayed = checks.scenario("verdicts")
            if replayed:
                replay_verdicts(dc, args.fixtures, checks)
            if checks.scenario("lookup"):
                check_lookup(dc, checks)
            if checks.scenario("iteration"):
                check_iteration(dc, checks)
            if checks.scenario("clients"):
                check_clients(dc, checks)
            if replayed:
                check_log_reasons(dc, checks)
            if checks.scenario("rewrite"):
                check_rewrite(dc, checks)
            if checks.scenario("one_store"):
                check_one_store(dc, checks)
            if checks.scenario("store_broker"):
                deep = "/srv/vstore-fixtures/vpopmail/domains/0/deep.example/vpasswd.cdb"
                check_store_broker(dc, checks, "zoe@deep.example", "Zoe-deep-1", lambda: os.utime(deep))
    if checks.scenario("auth_client"):
        check_auth_client(args.module_dir, args.work, checks)
    if checks.scenario("bad_args"):
        check_bad_args(args.module_dir, args.work, checks)
    if checks.scenario("workers"):
        check_in_workers(args, checks)
    if checks.scenario("24_settings") and is_24():
        check_24_settings(args.module_dir, args.work, checks)
    # leave the installed fixture as the tools wrote it for the next suite
    fixtures.install(args.fixtures, "vpopmail")
