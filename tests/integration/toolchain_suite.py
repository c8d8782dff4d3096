"""Living beside the qmail toolchain: vchkpw's lastauth file, Maildir++ quota shared with
vdelivermail (conf.d-examples/90-quota-vstore.conf on a real Dovecot), and the auth cache."""

import datetime
import os
import re
import time

from auth_client import AuthClient
from cdb_write import read_records, write_replace
from dovecot_harness import Dovecot
from mail_clients import IMAP, imap_login
import crypt
import vpopmail_suite
import fixtures  # noqa: E402

from fixtures import ROOT  # noqa: E402
DOM = f"{ROOT}/vpopmail/domains/example.com"


def describe(path):
    st = os.stat(path)
    with open(path, "rb") as f:
        content = f.read()
    when = datetime.datetime.utcfromtimestamp(st.st_mtime).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"content {content!r}, owner {st.st_uid}:{st.st_gid}, mode {oct(st.st_mode & 0o777)}, mtime {when}"


def check_lastauth(dc, checks):
    path = f"{DOM}/alice/lastauth"
    # install.sh copies the tree, which makes every mtime "now": age it to yesterday's login
    os.utime(path, (time.time() - 86400, time.time() - 86400))
    before = describe(path) if os.path.exists(path) else "(none)"
    old_mtime = os.stat(path).st_mtime if os.path.exists(path) else 0
    ok, detail, _ = imap_login(dc.imap_port, "alice@example.com", "Alice-pw1", source="127.0.0.3")
    checks.check("IMAP login alice@example.com", ok, detail)
    after = describe(path)
    print(f"lastauth before the login: {before}\nlastauth after the login:  {after}")
    st = os.stat(path)
    checks.check("lastauth holds the client's address, no newline", open(path, "rb").read() == b"127.0.0.3", after)
    checks.check("lastauth is owned by the domain's uid/gid (89:89)", (st.st_uid, st.st_gid) == (89, 89), after)
    checks.check("lastauth's mtime is the login time", st.st_mtime > old_mtime and abs(time.time() - st.st_mtime) < 30, after)
    leftovers = [n for n in os.listdir(f"{DOM}/alice") if n.startswith("lastauth.tmp")]
    checks.check("no temporary lastauth file is left behind", not leftovers, str(leftovers))
    # within lastauth_interval (60 s) another login does not rewrite it
    mtime = st.st_mtime_ns
    ok, detail, _ = imap_login(dc.imap_port, "alice@example.com", "Alice-pw1", source="127.0.0.4")
    checks.check("a second login within lastauth_interval leaves lastauth alone",
                 ok and os.stat(path).st_mtime_ns == mtime and open(path, "rb").read() == b"127.0.0.3")
    # a lastauth that cannot be replaced: logged, and the login still succeeds
    frank = f"{DOM}/frank/lastauth"
    if os.path.exists(frank):
        os.unlink(frank)
    os.mkdir(frank)
    os.utime(frank, (time.time() - 3600, time.time() - 3600))
    ok, detail, _ = imap_login(dc.imap_port, "frank@example.com", "Frank-pw6")
    checks.check("a lastauth write failure does not fail the login", ok, detail)
    checks.check("a lastauth write failure is logged with its reason",
                 dc.wait_for_log("cannot update lastauth: rename(" + frank), dc.tail(10))
    os.rmdir(frank)


def check_quota(dc, checks):
    """frank@example.com has vpasswd quota 5242880S (5 MiB)."""
    big = b"From: a@example.com\r\nSubject: big\r\n\r\n" + (b"x" * 76 + b"\r\n") * (3 * 1024 * 1024 // 78)
    c = IMAP(dc.imap_port)
    c.login("frank@example.com", "Frank-pw6")
    typ1, data1 = c.append("INBOX", None, None, big)
    try:
        typ2, data2 = c.append("INBOX", None, None, big)
    except Exception as e:  # imaplib raises on NO
        typ2, data2 = "NO", [str(e).encode()]
    typ3, quota = c.getquotaroot("INBOX")
    c.logout()
    print(f"APPEND 3 MiB #1: {typ1} {data1}\nAPPEND 3 MiB #2: {typ2} {data2}\nGETQUOTAROOT: {quota}")
    checks.check("first 3 MiB APPEND under the 5 MiB quota succeeds", typ1 == "OK", str(data1))
    checks.check("second APPEND over the quota is refused (OVERQUOTA)", typ2 == "NO" and b"OVERQUOTA" in b" ".join(
        d if isinstance(d, bytes) else str(d).encode() for d in data2), str(data2))
    checks.check("GETQUOTAROOT shows the vpasswd limit (5120 KiB)", "STORAGE" in str(quota) and "5120" in str(quota), str(quota))
    size_file = f"{DOM}/frank/Maildir/maildirsize"
    lines = open(size_file).read().splitlines()
    print(f"maildirsize: {lines}")
    checks.check("maildirsize's first line is vpopmail's quota spec", lines[0] == "5242880S", str(lines))
    checks.check("maildirsize's other lines are '<bytes> <count>'",
                 len(lines) > 1 and all(re.fullmatch(r"-?\d+ -?\d+", l) for l in lines[1:]), str(lines))
    # grace@example.com: 10485760S,1000C -> both limits
    c = IMAP(dc.imap_port)
    c.login("grace@example.com", "Grace-pw7")
    c.append("INBOX", None, None, b"Subject: small\r\n\r\nx\r\n")
    c.logout()
    first = open(f"{DOM}/grace/Maildir/maildirsize").readline().strip()
    checks.check("a size and count quota gives '10485760S,1000C' in maildirsize", first == "10485760S,1000C", first)


def set_password(user, password):
    """Rewrites example.com's vpasswd.cdb with a new hash (and clear field) for user."""
    path = f"{DOM}/vpasswd.cdb"
    recs = []
    for k, v in read_records(path):
        if k == user.encode():
            f = v.decode().split(":")
            f[0] = crypt.crypt(password, crypt.mksalt(crypt.METHOD_MD5))
            if len(f) > 6:
                f[6:] = [password]
            v = ":".join(f).encode()
        recs.append((k, v))
    write_replace(path, recs, 89, 89)


def check_cache(args, checks):
    conf = vpopmail_suite.db_config() + "auth_cache_size = 1M\nauth_cache_ttl = 4s\nauth_cache_negative_ttl = 0\n"
    with Dovecot(args.work + "-cache", args.module_dir, conf) as dc:
        client = AuthClient(dc.socket("auth-client"))
        login = lambda pw: client.login("pat@example.com", pw)  # noqa: E731
        checks.check("cache: first login (miss)", login("Pat-pw9") == "ok")
        mark = len(dc.log_text())
        checks.check("cache: second login", login("Pat-pw9") == "ok")
        checks.check("cache: the second login is a cache hit", dc.wait_for_log("cache hit") and
                     "cache hit" in dc.log_text()[mark:], dc.tail(10))
        set_password("pat", "Pat-new-1")
        checks.check("cache: right after a password change the cached password still works",
                     login("Pat-pw9") == "ok")
        r = dc.doveadm("auth", "cache", "flush")
        checks.check("cache: doveadm auth cache flush", r.returncode == 0, r.stdout + r.stderr)
        checks.check("cache: after the flush the old password fails", login("Pat-pw9") == "fail")
        checks.check("cache: after the flush the new password works", login("Pat-new-1") == "ok")
        set_password("pat", "Pat-new-2")
        time.sleep(5)
        checks.check("cache: after auth_cache_ttl the old password fails", login("Pat-new-1") == "fail")
        checks.check("cache: after auth_cache_ttl the new password works", login("Pat-new-2") == "ok")
        # the userdb result is cached too (key %u)
        rc, f, _ = dc.user("pat@example.com")
        checks.check("cache: userdb lookups work with the cache on", rc == 0 and f.get("home") == f"{DOM}/pat")
        client.close()


# run_store.py --only NAME runs one of them
SCENARIOS = ["lastauth", "quota", "cache"]


def run(args, checks):
    fixtures.install(args.fixtures, "vpopmail")
    try:
        conf = vpopmail_suite.db_config() + f"!include {args.source}/conf.d-examples/90-quota-vstore.conf\n"
        if checks.any_scenario("lastauth", "quota"):
            with Dovecot(args.work, args.module_dir, conf) as dc, dc.checked(checks, "no sanitizer reports"):
                if checks.scenario("lastauth"):
                    check_lastauth(dc, checks)
                if checks.scenario("quota"):
                    check_quota(dc, checks)
        if checks.scenario("cache"):
            check_cache(args, checks)
    finally:
        fixtures.install(args.fixtures, "vpopmail")
