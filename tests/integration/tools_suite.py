"""vstore, the operator's tool: lookup reproduces every fixture verdict, check reports each
kind of damage, export feeds a real Dovecot passwd-file passdb that gives the same verdicts
for the logins passwd-file can express."""

import json
import os
import shutil
import struct
import subprocess
import time

from cdb_write import cdb_hash, hash_tables, read_records, write_replace
from dovecot_harness import Dovecot, driver_config
from attack_tools import install  # the fixture stores, under the fixtures lock

from fixtures import ROOT  # noqa: E402
VP_ARGS = [f"vpopmail_dir={ROOT}/vpopmail", f"qmail_dir={ROOT}/qmail", "webmail_ips=127.0.0.1"]
VM_ARGS = [f"qmail_dir={ROOT}/vm-qmail", f"config_dir={ROOT}/vm-etc"]
CORRUPT = {"v2badflag@example.com", "v2trail@example.com", "v2short@example.com", "v3@example.com"}


def vstore(a, *args, stdin=None):
    return subprocess.run([a.vstore, *args], input=stdin, capture_output=True, text=True)



def check_lookup_verdicts(a, checks):
    for store, args in (("vpopmail", VP_ARGS), ("vmailmgr", VM_ARGS)):
        rows = [json.loads(l) for l in open(os.path.join(a.fixtures, store, "verdicts.jsonl"))]
        agreed = 0
        for n, row in enumerate(rows, 1):
            extra = ["--rip", row["remote_ip"]] if "remote_ip" in row else []
            if "tcplocalhost" in row:
                extra += ["--local-name", row["tcplocalhost"]]
            r = vstore(a, "lookup", store, *args, row["login"], "--service", row["service"], *extra,
                       "--password-stdin", stdin=row["password"] + "\n")
            want = (0,) if row["ok"] else ((75,) if row["login"] in CORRUPT else (1, 2))
            same = r.returncode in want
            agreed += same
            checks.check(f"vstore lookup {store} row {n} ({row['why'][:60]})", same,
                         f"exit {r.returncode}, want {want}\n{r.stdout}{r.stderr}")
        print(f"vstore lookup {store}: agreed {agreed}/{len(rows)}")
    r = vstore(a, "lookup", "vpopmail", *VP_ARGS, "carol@example.com", "--service", "imap", "--rip", "127.0.0.2",
               "--password-stdin", stdin="Carol-pw3\n")
    print("$ vstore lookup vpopmail ... carol@example.com --service imap --rip 127.0.0.2 --password-stdin\n"
          + r.stdout + f"(exit {r.returncode})\n")
    checks.check("lookup prints the steps and the driver's reason", r.returncode == 1 and
                 "NO_IMAP blocks imap" in r.stdout and "assign:" in r.stdout and "record:" in r.stdout, r.stdout)
    r = vstore(a, "lookup", "vmailmgr", *VM_ARGS, "bob.smith@example.org", "--password-stdin", stdin="B0b-second\n")
    print("$ vstore lookup vmailmgr ... bob.smith@example.org --password-stdin\n" + r.stdout + f"(exit {r.returncode})\n")
    checks.check("lookup of an accepted vmailmgr login", r.returncode == 0 and "Bob:Smith" in r.stdout, r.stdout)
    checks.check("vstore --help", vstore(a, "--help").returncode == 0)
    checks.check("export with an unknown driver arg is a usage error (64), not a store fault",
                 vstore(a, "export", "vmailmgr", "bogus=1", "--format", "sql").returncode == 64)
    checks.check("an unknown driver arg is a usage error naming it",
                 (lambda r: r.returncode == 64 and "'bogus'" in r.stderr)(
                     vstore(a, "lookup", "vpopmail", "bogus=1", "alice@example.com")))


def check_clean(a, checks):
    install(a, "vpopmail")
    install(a, "vmailmgr")
    r = vstore(a, "check", "vpopmail", *VP_ARGS)
    errors = [l for l in r.stdout.splitlines() if l.startswith("error:")]
    checks.check("check is clean on the vpopmail fixture (no errors)", r.returncode == 0 and not errors, r.stdout)
    checks.check("check notes the fixture's known oddities (junk key, missing cdb)",
                 "junk key" in r.stdout and "nocdb.example/vpasswd.cdb: missing" in r.stdout, r.stdout)
    r = vstore(a, "check", "vmailmgr", *VM_ARGS)
    errors = {l.split(":")[1].strip().split(" ")[0] for l in r.stdout.splitlines() if l.startswith("error:")}
    checks.check("check on the vmailmgr fixture reports exactly the four crafted corrupt records",
                 r.returncode == 1 and errors == {"v2badflag", "v2trail", "v2short", "v3"}, r.stdout)


def damage_cases():
    dom = f"{ROOT}/vpopmail/domains/example.net"
    cdb = f"{dom}/vpasswd.cdb"

    def rewrite(fn):
        recs = read_records(cdb)
        write_replace(cdb, fn(recs), 89, 89)

    def set_value(name, new):
        return lambda: rewrite(lambda rs: [(k, new(v) if k == name else v) for k, v in rs])

    def touch_newer():
        later = time.time() + 60
        os.utime(f"{dom}/vpasswd", (later, later))

    return [
        ("vpopmail", "unparsable record", set_value(b"rita", lambda v: v.replace(b":1:0:", b":1:x0:", 1)),
         "rita@example.net: vpasswd flags field", True),
        ("vpopmail", "user missing from vpasswd.cdb", lambda: rewrite(lambda rs: [r for r in rs if r[0] != b"sam"]),
         "sam@example.net: in vpasswd but not in vpasswd.cdb", True),
        ("vpopmail", "cdb record differs from vpasswd", set_value(b"vera", lambda v: v.replace(b"NOQUOTA", b"1000S")),
         "vera@example.net: vpasswd.cdb record differs", False),
        ("vpopmail", "junk key", lambda: rewrite(lambda rs: rs + [(b"tail\n", b"junk")]), "junk key 'tail\\x0a'", False),
        ("vpopmail", "vpasswd newer than vpasswd.cdb", touch_newer, "newer than vpasswd.cdb", False),
        ("vpopmail", "home directory missing", lambda: shutil.rmtree(f"{dom}/walt"),
         f"walt@example.net: home {dom}/walt does not exist", False),
        ("vpopmail", "unreadable store (a directory)", lambda: (os.unlink(cdb), os.mkdir(cdb)),
         "is a directory, not a regular file", True),
        ("vpopmail", "duplicate key", lambda: rewrite(lambda rs: rs + [r for r in rs if r[0] == b"rita"]),
         "duplicate key 'rita'", False),
        ("vpopmail", "upper-case key", lambda: rewrite(lambda rs: rs + [(b"Zed", rs[0][1])]), "upper-case key 'Zed'", False),
        ("vpopmail", "assign entry whose directory is gone", lambda: shutil.rmtree(f"{ROOT}/vpopmail/domains/d050.test"),
         "d050.test: assign entry's directory", True),
        ("vmailmgr", "stale passwd.cdb.tmp", lambda: open(f"{ROOT}/vmailmgr/exorg/passwd.cdb.tmp", "w").close(),
         "passwd.cdb.tmp: stale temporary file", False),
        ("vmailmgr", "corrupt record", lambda: write_replace(
            f"{ROOT}/vmailmgr/vm/passwd.cdb", [(k, v + b"x") for k, v in read_records(f"{ROOT}/vmailmgr/vm/passwd.cdb")],
            2105, 2105), "bizuser (vm): 1 trailing bytes", True),
        ("vmailmgr", "base user's store missing", lambda: os.unlink(f"{ROOT}/vmailmgr/vm-info/passwd.cdb"),
         "vm-info/passwd.cdb", True),
        ("vmailmgr", "password-file naming a missing store", lambda: set_password_file("exorg", "gone"),
         "exorg/gone.cdb", True),
    ]


def set_password_file(base, name, move_store=False):
    """~base/.vmailmgr/password-file = name, written as the base user would (and the store
    moved there when move_store)."""
    home = f"{ROOT}/vmailmgr/{base}"
    st = os.stat(home)
    os.makedirs(f"{home}/.vmailmgr", exist_ok=True)
    with open(f"{home}/.vmailmgr/password-file", "w") as f:
        f.write(name + "\n")
    for p in (f"{home}/.vmailmgr", f"{home}/.vmailmgr/password-file"):
        os.chown(p, st.st_uid, st.st_gid)
    if move_store:
        os.rename(f"{home}/passwd.cdb", f"{home}/{name}.cdb")


def check_password_file(a, checks):
    """A base user whose ~/.vmailmgr/password-file names another store: check, lookup and
    export read that one, as the drivers do."""
    install(a, "vmailmgr")
    set_password_file("exorg", "mail-users", move_store=True)
    r = vstore(a, "check", "vmailmgr", *VM_ARGS)
    errors = {l.split(":")[1].strip().split(" ")[0] for l in r.stdout.splitlines() if l.startswith("error:")}
    checks.check("check reads the store password-file names (only the four crafted records are errors)",
                 errors == {"v2badflag", "v2trail", "v2short", "v3"}, r.stdout)
    r = vstore(a, "lookup", "vmailmgr", *VM_ARGS, "bob.smith@example.org")
    checks.check("lookup reads the store password-file names", r.returncode == 0, r.stdout)
    r = vstore(a, "export", "vmailmgr", *VM_ARGS, "--format", "passwd-file")
    checks.check("export reads the store password-file names",
                 r.returncode == 0 and "\nalice@example.org:" in "\n" + r.stdout, r.stderr)
    install(a, "vmailmgr")


def check_damage(a, checks):
    table = []
    for store, name, apply, needle, is_error in damage_cases():
        install(a, store)
        apply()
        r = vstore(a, "check", store, *(VP_ARGS if store == "vpopmail" else VM_ARGS))
        line = next((l for l in r.stdout.splitlines() if needle in l), "")
        table.append((store, name, line))
        checks.check(f"check finds: {store} {name}", bool(line), r.stdout[-2000:])
        checks.check(f"check classifies: {store} {name} as {'an error' if is_error else 'a warning'}",
                     line.startswith("error:" if is_error else "warning:"), line)
        if store == "vpopmail":  # (the vmailmgr fixture has four corrupt records: always exit 1)
            checks.check(f"check exit status for: {store} {name}", r.returncode == (1 if is_error else 0),
                         f"exit {r.returncode}")
    install(a, "vpopmail")
    install(a, "vmailmgr")
    print("\nvstore check on damaged copies:")
    for store, name, line in table:
        print(f"  {store} | {name} | {line}")


def check_export(a, checks):
    """export --format passwd-file, served by Dovecot's own passwd-file driver."""
    install(a, "vpopmail")
    install(a, "vmailmgr")
    for store, args in (("vpopmail", VP_ARGS), ("vmailmgr", VM_ARGS)):
        out = os.path.join(a.work + "-export", f"{store}.passwd")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        r = vstore(a, "export", store, *args, "--format", "passwd-file")
        checks.check(f"export {store} --format passwd-file", r.returncode == 0, r.stderr)
        with open(out, "w") as f:
            f.write(r.stdout)
        os.chmod(os.path.dirname(out), 0o755)
        os.chmod(out, 0o644)
        exported = {l.split(":", 1)[0] for l in r.stdout.splitlines()}
        skipped = [l for l in r.stderr.splitlines() if "skipped" in l]
        sql = vstore(a, "export", store, *args, "--format", "sql")
        checks.check(f"export {store} --format sql", sql.returncode == 0 and "CREATE TABLE vstore_users" in sql.stdout
                     and sql.stdout.count("INSERT INTO") == len(exported) + sum(1 for s in skipped if "passwd-file" in s),
                     sql.stderr)
        conf = driver_config("passwd-file", f"scheme=CRYPT {out}", userdb=("passwd-file", out))
        rows = [json.loads(l) for l in open(os.path.join(a.fixtures, store, "verdicts.jsonl"))]
        compared = agreed = 0
        excluded = {}
        with Dovecot(a.work + f"-export-{store}", a.module_dir, conf) as dc:
            for row in rows:
                login = row["login"]
                # what passwd-file cannot express: other spellings of a login (case, %, /, bare
                # user, alias domains, local names), service flags and webmail, expiry, aliases
                why = row["why"]
                if login not in exported and row["ok"]:
                    excluded.setdefault("login spelled differently from user@domain (case, %, /, default or alias domain)", []).append(login)
                    continue
                if "exit 1:" in why:
                    excluded.setdefault("service flags / domain limits", []).append(login)
                    continue
                if login not in exported and not row["ok"]:
                    # refused by the tool and absent from the export: passwd-file refuses too
                    pass
                result, _ = dc.auth_test(login, row["password"], row["service"], row.get("remote_ip", "127.0.0.2"))
                compared += 1
                agreed += (result == "ok") == row["ok"]
                checks.check(f"passwd-file export of {store} agrees on {login} / {row['service']}",
                             (result == "ok") == row["ok"], why)
        print(f"export {store} -> Dovecot passwd-file: agreed {agreed}/{compared} compared logins; skipped users: "
              f"{len(skipped)}")
        for reason, logins in excluded.items():
            print(f"  not expressible ({reason}): {len(logins)} rows, e.g. {', '.join(logins[:4])}")


def check_settings(a, checks):
    """vstore settings lists what settings_list.h declares; its args parse as the drivers'."""
    import settings_table
    for store in ("vpopmail", "vmailmgr"):
        r = vstore(a, "settings", store)
        listed = [tuple(l.split("\t")) for l in r.stdout.splitlines()]
        declared = [(arg, name24 or "-", default, meaning.replace('\\"', '"'))
                    for arg, name24, default, meaning in settings_table.rows(store)]
        checks.check(f"vstore settings {store} lists the declared settings", listed == declared,
                     f"{listed}\n!=\n{declared}")
    r = vstore(a, "lookup", "vmailmgr", *VM_ARGS, "system_users=no", "bob.smith@example.org")
    checks.check("a removed setting is refused, saying what replaces it",
                 r.returncode == 64 and "system_users" in r.stderr and "pam passdb" in r.stderr, r.stderr)


SUBCOMMANDS = ("lookup", "check", "export", "settings", "config-check")
BIG_RECORD = 512 << 20     # the sparse record's length
PARENT_RSS_CAP = 64 << 20  # what the root parent of config-check may reach, whatever a store holds


def check_help(a, checks):
    """Every subcommand answers --help and -h with its usage on stdout, exit 0; vstore --help
    lists them all."""
    r = vstore(a, "--help")
    checks.check("vstore --help lists every subcommand and how to get its usage",
                 r.returncode == 0 and all(f"vstore {c} " in r.stdout for c in SUBCOMMANDS) and
                 "vstore COMMAND --help" in r.stdout, r.stdout + r.stderr)
    for c in SUBCOMMANDS:
        for flag in ("--help", "-h"):
            r = vstore(a, c, flag)
            checks.check(f"vstore {c} {flag} prints its usage, exit 0",
                         r.returncode == 0 and r.stdout.startswith(f"usage: vstore {c} "),
                         f"exit {r.returncode}\n{r.stdout}{r.stderr}")


def write_sparse_cdb(path, records, big_key, big_len, uid, gid):
    """A cdb with `records` and one more, `big_key`, whose data is `big_len` zero bytes left as a
    hole (a sparse file: a few KiB on disk), written as the owner's tools write: a new file
    renamed over the old one."""
    tmp = path + ".tmp"
    tables = [[] for _ in range(256)]
    with open(tmp, "wb") as f:
        f.seek(2048)
        for k, v in records:
            tables[cdb_hash(k) & 255].append((cdb_hash(k), f.tell()))
            f.write(struct.pack("<II", len(k), len(v)) + k + v)
        tables[cdb_hash(big_key) & 255].append((cdb_hash(big_key), f.tell()))
        f.write(struct.pack("<II", len(big_key), big_len) + big_key)
        f.seek(big_len, os.SEEK_CUR)
        header, tail = hash_tables(tables, f.tell())
        f.write(tail)
        f.seek(0)
        f.write(header)
    os.chown(tmp, uid, gid)
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)


def peak_rss(cmd):
    """Runs cmd; returns (exit status, output, the process's own peak RSS, its children's highest)
    from /proc (VmHWM is per process: /usr/bin/time would add the children's)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    own = children = 0

    def hwm(pid):
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    while p.poll() is None:
        own = max(own, hwm(p.pid))
        try:
            kids = open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()
        except OSError:
            kids = []
        children = max([children] + [hwm(k) for k in kids])
        time.sleep(0.005)
    out = p.stdout.read().decode(errors="replace")
    return p.returncode, out, own, children


def check_config_check_hostile(a, checks, conf, dbs, vp):
    """config-check as a hostile store owner or a hostile path would have it: no shell, no
    decoding of store bytes in the root parent, nothing raw on the terminal."""
    pwned = "/tmp/vstore-config-check-pwned"
    if os.path.exists(pwned):
        os.unlink(pwned)
    r = vstore(a, "config-check", f"x'; touch {pwned}; '")
    checks.check("config-check: a path with '; touch ...; ' runs nothing and is a missing file",
                 not os.path.exists(pwned) and r.returncode != 0 and "No such file or directory" in r.stderr,
                 f"exit {r.returncode}, {pwned} exists: {os.path.exists(pwned)}\n{r.stdout}{r.stderr}")

    # a store path from the configuration comes back in a problem line: shown escaped
    r = conf(dbs(f"vpopmail_dir={ROOT}/esc\x1b[31mred qmail_dir={ROOT}/qmail"))
    checks.check("config-check: a problem quoting ESC shows it escaped (\\x1b), no raw control byte",
                 r.returncode == 1 and "esc\\x1b[31mred" in r.stdout and "\x1b" not in r.stdout,
                 repr(r.stdout + r.stderr))

    # the child takes on the reading process's memory limit: one too small to read the store is
    # reported as such (a login would fail the same way), not a crash or a pass
    # (not under ASan: its shadow memory takes any address-space limit; vstore sets none then)
    asan = bool(os.environ.get("VSTORE_ASAN_PRELOAD"))
    r = conf(dbs(vp) + "service auth {\n  vsz_limit = 1M\n}\n",
             "auth_username_chars =\nfirst_valid_uid = 89\nauth_mechanisms = plain cram-md5\n")
    if not asan:
        checks.check("config-check: the check runs under the auth service's vsz_limit (1M: the store does not fit)",
                     r.returncode == 1 and "does not fit in the reading process's vsz_limit (1 MiB)" in r.stdout,
                     r.stdout + r.stderr)

    # a sparse 512 MiB record with a challenge-response mechanism: every record is decoded in
    # the child, as the auth process's user, under its vsz_limit; the root parent stays small
    cdb = f"{ROOT}/vpopmail/domains/example.com/vpasswd.cdb"
    st = os.stat(cdb)
    write_sparse_cdb(cdb, read_records(cdb), b"huge", BIG_RECORD, st.st_uid, st.st_gid)
    try:
        path = conf(dbs(vp), "auth_username_chars =\nfirst_valid_uid = 89\nauth_mechanisms = plain cram-md5\n",
                    path_only=True)
        started = time.monotonic()
        rc, out, own, child = peak_rss([a.vstore, "config-check", path])
        took = time.monotonic() - started
    finally:
        install(a, "vpopmail")
    figure = (f"config-check with a {BIG_RECORD >> 20} MiB sparse record and cram-md5: root parent peak RSS "
              f"{own / 2**20:.1f} MiB, check child {child / 2**20:.1f} MiB, {took:.1f} s, exit {rc}")
    print(figure)
    checks.check(f"config-check: the root parent stays under {PARENT_RSS_CAP >> 20} MiB with a sparse "
                 f"{BIG_RECORD >> 20} MiB record ({own / 2**20:.1f} MiB), the check child within the auth "
                 f"process's vsz_limit ({child / 2**20:.1f} MiB)",
                 0 < own < PARENT_RSS_CAP and (asan or child < (256 << 20)) and rc in (0, 1), figure + "\n" + out)


def check_config_check(a, checks):
    """vstore config-check: Dovecot's configuration against the drivers and the stores, as the
    processes that read them; one line per problem, exit 1; a sound configuration passes."""
    install(a, "vpopmail")
    install(a, "vmailmgr")
    work = a.work + "-config-check"
    os.makedirs(work, exist_ok=True)

    def conf(body, head="auth_username_chars =\nfirst_valid_uid = 89\n", path_only=False):
        path = os.path.join(work, "dovecot.conf")
        with open(path, "w") as f:
            f.write("protocols =\n" + head + body)
        return path if path_only else vstore(a, "config-check", path)

    vp = f"vpopmail_dir={ROOT}/vpopmail qmail_dir={ROOT}/qmail"
    vm = f"qmail_dir={ROOT}/vm-qmail config_dir={ROOT}/vm-etc"
    dbs = lambda args, driver="vpopmail": driver_config(driver, args)  # noqa: E731
    r = conf(dbs(vp) + dbs(vm, "vmailmgr"))
    checks.check("config-check: the fixture configuration has no problem", r.returncode == 0, r.stdout + r.stderr)
    for name, body, head, needle in [
        ("a misspelt argument", dbs(vp + " webmail_ip=127.0.0.1"), None, "unknown argument 'webmail_ip'"),
        ("workers that cannot read the store", dbs(vp + " blocking=yes") + "service auth-worker {\n  user = dovecot\n}\n",
         None,
         "read by the auth workers as dovecot"),
        ("first_valid_uid above the store's uid", dbs(vp), "auth_username_chars =\n",
         "belongs to uid 89, below first_valid_uid = 500"),
        ("CRAM-MD5 for crypt-only users", dbs(vp), "auth_username_chars =\nfirst_valid_uid = 89\n"
         "auth_mechanisms = plain cram-md5\n", "users have no clear password"),
        ("auth_username_chars left at Dovecot's default", dbs(vp), "first_valid_uid = 89\n",
         "auth_username_chars is set"),
        ("a vmailmgr config_dir that is not there", dbs(f"qmail_dir={ROOT}/vm-qmail config_dir={ROOT}/nowhere",
                                                       "vmailmgr"), None, "nowhere is not a directory (config_dir=)"),
    ]:
        r = conf(body) if head is None else conf(body, head)
        checks.check(f"config-check finds {name}", r.returncode == 1 and needle in r.stdout, r.stdout + r.stderr)
    # the auth process reads through a store broker, as the store's owners: a file even the
    # owner may not read is found, as that process would find it
    defaultdomain = f"{ROOT}/vpopmail/etc/defaultdomain"
    os.chmod(defaultdomain, 0)
    try:
        r = conf(dbs(vp))
    finally:
        os.chmod(defaultdomain, 0o644)
    checks.check("config-check finds a store file its owner cannot read, through the store broker",
                 r.returncode == 1 and "read by the auth process (store broker) as dovecot" in r.stdout and
                 "defaultdomain" in r.stdout and "Permission denied" in r.stdout, r.stdout + r.stderr)
    check_config_check_hostile(a, checks, conf, dbs, vp)


PARTS = [("lookup", check_lookup_verdicts), ("clean", check_clean), ("damage", check_damage),
         ("password_file", check_password_file), ("export", check_export), ("settings", check_settings),
         ("help", check_help), ("config_check", check_config_check)]
# run_store.py --only NAME runs one of them
SCENARIOS = [name for name, _ in PARTS]


def run(args, checks):
    args.vstore = os.path.join(os.path.dirname(args.module_dir.rstrip("/")), "..", "tools", "vstore", "vstore")
    args.vstore = os.path.abspath(args.vstore)
    try:
        for name, part in PARTS:
            if checks.scenario(name):
                part(args, checks)
    finally:
        install(args, "vpopmail")
        install(args, "vmailmgr")
