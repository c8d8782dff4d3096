"""Shared stores: several Dovecot hosts on one store over NFS, CIFS or FUSE. inotify never
reports another host's writes, so where a directory's file system is shared the driver must
stat() every cached file per lookup (shared_fs=auto: statfs decides per directory; yes:
everywhere; no: trust inotify everywhere), and a read error there is a store fault.

The other host is simulated with FUSE: the installed fixture is moved to a backing directory
under BACKING and mounted back at its own path with bindfs (real owners and modes, as root
with allow_other and default_permissions; 1 s kernel caches for names, attributes and missing
names, like NFS with actimeo=1). The suite writes the backing directory the way the tools do,
which the mount's inotify never sees, and measures how long logins through the mount take to
see each change (the staleness). Also: shared_fs=no stays stale (the checks can fail),
shared_fs=yes on the plain local tree, and eio_fs.py, a pass-through FUSE file system whose
read() fails with EIO: a temporary failure with a logged store fault, never a crash."""

import crypt
import os
import shutil
import subprocess
import time
import warnings

from cdb_write import read_records, write_replace
from dovecot_harness import Dovecot
import vmailmgr_suite
import vpopmail_suite
from attack_tools import install  # the fixture stores, under the fixtures lock

warnings.filterwarnings("ignore", category=DeprecationWarning)
from fixtures import ROOT  # noqa: E402
BACKING = "/srv/vstore-backing"
EIO_FS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eio_fs.py")
EIO_CONTROL = f"{BACKING}/eio-control"
PRISTINE = f"{BACKING}/pristine"  # the installed fixtures, copied once
BOUND = 5.0        # seconds within which a change on the other host must be seen
FUSE_CACHE = 1     # entry/attr/negative timeout of the mounts, seconds
FUSE_MAGIC = "65735546"  # statfs f_type of a FUSE mount
RIP = "127.0.0.2"
VP_DIRS = ("vpopmail", "qmail")
VM_DIRS = ("vmailmgr", "vm-qmail", "vm-etc")
CRASH = ("killed with signal", "Fatal:", "Panic:")
STORE_FAULT = "store fault (temporary failure): "
MD5, SHA512 = crypt.METHOD_MD5, crypt.METHOD_SHA512



# --- mounts -------------------------------------------------------------------------------

def unmount(path, proc=None):
    for _ in range(50):
        if not os.path.ismount(path):
            break
        if subprocess.run(["fusermount", "-u", path], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    else:
        subprocess.run(["umount", "-l", path], capture_output=True)
    if proc is not None:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def bindfs(src, dst):
    c = FUSE_CACHE
    return ["bindfs", "-f", "-o", f"entry_timeout={c},attr_timeout={c},negative_timeout={c}", src, dst]


def eio_fs(src, dst):
    # Debian's python3-fusepy lives in the system Python's dist-packages
    return ["/usr/bin/python3", EIO_FS, src, dst, EIO_CONTROL]


class Mounted:
    """Moves ROOT/<dir> to BACKING/<dir> and mounts it back at ROOT/<dir> with command(src,
    dst); on exit unmounts and moves the tree back (with whatever the test wrote)."""

    def __init__(self, dirs, command):
        self.dirs, self.command, self.mounts = dirs, command, []

    def __enter__(self):
        os.makedirs(BACKING, exist_ok=True)
        try:
            for d in self.dirs:
                src, dst = f"{BACKING}/{d}", f"{ROOT}/{d}"
                os.rename(dst, src)
                os.mkdir(dst)
                entry = [None, src, dst]
                self.mounts.append(entry)
                with open(f"{BACKING}/{d}.mount.log", "w") as err:
                    entry[0] = subprocess.Popen(self.command(src, dst), stdout=subprocess.DEVNULL, stderr=err)
                deadline = time.time() + 10
                while not os.path.ismount(dst):
                    if entry[0].poll() is not None or time.time() > deadline:
                        raise RuntimeError(f"mounting {src} on {dst} failed: "
                                           + open(f"{BACKING}/{d}.mount.log").read())
                    time.sleep(0.05)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        while self.mounts:
            proc, src, dst = self.mounts.pop()
            unmount(dst, proc)
            if not os.path.ismount(dst):
                os.rmdir(dst)
                os.rename(src, dst)


def stores_dirs(store):
    return VP_DIRS if store == "vpopmail" else VM_DIRS


def fresh(args, store):
    """The store as installed: copied back from PRISTINE (cp -a keeps owners, modes and
    times), or install.sh when there is no copy."""
    if not all(os.path.isdir(f"{PRISTINE}/{d}") for d in stores_dirs(store)):
        install(args, store)
        return
    for d in stores_dirs(store):
        dst = f"{ROOT}/{d}"
        if os.path.ismount(dst):
            raise RuntimeError(f"{dst} is still mounted")
        if os.path.lexists(dst):
            shutil.rmtree(dst)
        subprocess.run(["cp", "-a", f"{PRISTINE}/{d}", dst], check=True)


def cleanup(args, pristine):
    """No mount, no backing copy, plain installed fixtures (also after an aborted run). With
    pristine, install.sh runs and its result is kept in PRISTINE for fresh()."""
    for d in VP_DIRS + VM_DIRS:
        if os.path.ismount(f"{ROOT}/{d}"):
            unmount(f"{ROOT}/{d}")
            if os.path.ismount(f"{ROOT}/{d}"):
                raise RuntimeError(f"cannot unmount {ROOT}/{d}: not touching the fixtures")
    if pristine or not os.path.isdir(PRISTINE):
        for store in ("vpopmail", "vmailmgr"):
            install(args, store)
    else:
        fresh(args, "vpopmail")
        fresh(args, "vmailmgr")
    if os.path.isdir(BACKING):
        shutil.rmtree(BACKING)
    if pristine:
        os.makedirs(PRISTINE)
        for d in VP_DIRS + VM_DIRS:
            subprocess.run(["cp", "-a", f"{ROOT}/{d}", f"{PRISTINE}/{d}"], check=True)


def fs_type(path):
    return subprocess.run(["stat", "-f", "-c", "%t", path], capture_output=True, text=True).stdout.strip()


# --- writes as the tools make them, on "the other host" (top = where its tree is) -----------

def replace_file(path, data, uid, gid, mode):
    """A whole new file, then rename() over the old one."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chown(tmp, uid, gid)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def rewrite_in_place(path, data):
    """fopen(path, "w") and write: same inode (vmoddomlimits, an admin's echo > file)."""
    with open(path, "wb") as f:
        f.write(data)


def owner_mode(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid, st.st_mode & 0o777


def make_maildir(path, uid, gid, mode=0o700):
    for sub in ("", "/cur", "/new", "/tmp"):
        os.makedirs(path + sub, exist_ok=True)
        os.chown(path + sub, uid, gid)
        os.chmod(path + sub, mode)


def vp_users(top, domain, edit):
    """vpopmail (cdb module): the text vpasswd rewritten, then vpasswd.cdb rebuilt from it
    (vmkpasswd), each as a new file renamed over the old one."""
    d = f"{top}/vpopmail/domains/{domain}"
    lines = edit(open(f"{d}/vpasswd").read().splitlines())
    replace_file(f"{d}/vpasswd", "".join(l + "\n" for l in lines).encode(), *owner_mode(f"{d}/vpasswd"))
    if os.path.exists(f"{d}/vpasswd.cdb"):
        write_replace(f"{d}/vpasswd.cdb", [tuple(x.encode() for x in l.split(":", 1)) for l in lines], 89, 89)


def vp_set_password(user, password, method):
    def edit(lines):
        out = []
        for line in lines:
            f = line.split(":")
            if f[0] == user:
                f[1] = crypt.crypt(password, crypt.mksalt(method))
                if len(f) > 7:
                    f[7] = password  # 5.4.33's clear field
            out.append(":".join(f))
        return out
    return edit


def vp_add_user(top, domain, user, password):
    make_maildir(f"{top}/vpopmail/domains/{domain}/{user}", 89, 89)
    line = f"{user}:{crypt.crypt(password, crypt.mksalt(SHA512))}:1:0:{user}:{ROOT}/vpopmail/domains/{domain}/{user}:NOQUOTA"
    vp_users(top, domain, lambda lines: lines + [line])


def vp_del_user(top, domain, user):
    vp_users(top, domain, lambda lines: [l for l in lines if l.split(":", 1)[0] != user])
    shutil.rmtree(f"{top}/vpopmail/domains/{domain}/{user}")


def vp_add_domain(top, domain, password):
    """vadddomain: the domain directory with its postmaster, then users/assign and users/cdb
    (qmail-newu: cdb.tmp renamed over cdb)."""
    d, shared = f"{top}/vpopmail/domains/{domain}", f"{ROOT}/vpopmail/domains/{domain}"
    os.mkdir(d, 0o700)
    os.chown(d, 89, 89)
    make_maildir(f"{d}/postmaster/Maildir", 89, 89)
    os.chown(f"{d}/postmaster", 89, 89)
    line = f"postmaster:{crypt.crypt(password, crypt.mksalt(SHA512))}:1:0:Postmaster:{shared}/postmaster:NOQUOTA"
    replace_file(f"{d}/vpasswd", (line + "\n").encode(), 89, 89, 0o600)
    write_replace(f"{d}/vpasswd.cdb", [tuple(x.encode() for x in line.split(":", 1))], 89, 89)
    assign = f"{top}/qmail/users/assign"
    lines = open(assign).read().splitlines()
    lines.insert(lines.index("."), f"+{domain}-:{domain}:89:89:{shared}:-::")
    replace_file(assign, "".join(l + "\n" for l in lines).encode(), *owner_mode(assign))
    cdb = f"{top}/qmail/users/cdb"
    recs = read_records(cdb)
    value = "\0".join([domain, "89", "89", shared, "-", ""])  # as qmail-newu stores "+domain-:domain:89:89:dir:-::"
    recs.insert(len(recs) - 1, (f"!{domain}-".encode(), value.encode()))
    write_replace(cdb, recs, *owner_mode(cdb))


def vm_users(top, base, edit, name="passwd.cdb"):
    """vmailmgr: passwd.cdb rewritten whole (passwd.cdb.tmp renamed over it)."""
    path = f"{top}/vmailmgr/{base}/{name}"
    write_replace(path, edit(read_records(path)), *owner_mode(path))


def vm_set_password(user, password):
    def one(value):  # version + 5 flag bytes, then the NUL-terminated password
        return value[:6] + crypt.crypt(password, crypt.mksalt(MD5)).encode() + value[value.index(b"\0", 6):]
    return lambda recs: [(k, one(v) if k == user.encode() else v) for k, v in recs]


def vm_add_user(top, base, user, password):
    uid, gid, _ = owner_mode(f"{top}/vmailmgr/{base}/passwd.cdb")
    make_maildir(f"{top}/vmailmgr/{base}/users/{user}", uid, gid)
    z = b"\0"
    value = (b"\x02\x0a\x01\x08\x01\x00" + crypt.crypt(password, crypt.mksalt(MD5)).encode() + z
             + f"./users/{user}".encode() + z + z + user.encode() + z + b"-\0-\0-\0-\0"
             + str(int(time.time())).encode() + z + b"-\0")
    vm_users(top, base, lambda recs: recs + [(user.encode(), value)])


def vm_del_user(top, base, user):
    vm_users(top, base, lambda recs: [r for r in recs if r[0] != user.encode()])
    shutil.rmtree(f"{top}/vmailmgr/{base}/users/{user}")


def vm_add_virtualdomain(top, line):
    path = f"{top}/vm-qmail/control/virtualdomains"
    replace_file(path, open(path, "rb").read() + (line + "\n").encode(), *owner_mode(path))


def vm_move_password_file(top, base, new_name, user, password):
    """~base/.vmailmgr/password-file names another store (a copy with user's password
    changed); written after the store it names, as an admin would."""
    home = f"{top}/vmailmgr/{base}"
    uid, gid, mode = owner_mode(f"{home}/passwd.cdb")
    write_replace(f"{home}/{new_name}.cdb", vm_set_password(user, password)(read_records(f"{home}/passwd.cdb")),
                  uid, gid, mode)
    setting = f"{home}/.vmailmgr/password-file"
    rewrite_in_place(setting, (new_name + "\n").encode())
    os.chown(setting, uid, gid)


# --- changes --------------------------------------------------------------------------------

class Change:
    """kind: the file kind. warm: (user, password) looked up through the passdb and the userdb
    before the change (each has its own cache). before: (what, probe) that holds before it;
    seen: (what, probe) polled until the change shows, chosen so that a stale answer is fast
    (a login that succeeds, a userdb lookup; a refused login takes Dovecot 0.5 s). after:
    more (what, probe) that must hold once it is seen. A probe is probe(dc) -> bool."""

    def __init__(self, kind, what, warm, before, apply, seen, after=()):
        self.kind, self.what, self.warm = kind, what, warm
        self.before, self.apply, self.seen, self.after = before, apply, seen, after


def login(user, password, expect, service="imap"):
    return lambda dc: dc.auth_test(user, password, service, RIP)[0] == expect


def user_home(user, home):
    def probe(dc):
        rc, fields, _ = dc.user(user)
        return rc == 0 and fields.get("home") == home
    return probe


def user_unknown(user):
    return lambda dc: dc.user(user)[0] == 67


def vpopmail_changes(top):
    net, nocdb = "example.net", "nocdb.example"
    lim = f"{top}/vpopmail/domains/imapoff.example/.qmailadmin-limits"

    def add_disable_pop():  # vmoddomlimits -g p: the file rewritten in place, keys in its order
        text = open(lim, "rb").read()
        rewrite_in_place(lim, text.replace(b"disable_imap\n", b"disable_pop\ndisable_imap\n"))

    return [
        Change("vpasswd.cdb", "password change (rita@example.net)", ("rita@example.net", "Rita-net-1"),
               ("the old password logs in", login("rita@example.net", "Rita-net-1", "ok")),
               lambda: vp_users(top, net, vp_set_password("rita", "Rita-shared-2", SHA512)),
               ("the old password is refused", login("rita@example.net", "Rita-net-1", "fail")),
               [("the new password logs in", login("rita@example.net", "Rita-shared-2", "ok"))]),
        Change("vpasswd.cdb", "new user (newbie@example.net)", ("newbie@example.net", "Newbie-pw-1"),
               ("the user is unknown", user_unknown("newbie@example.net")),
               lambda: vp_add_user(top, net, "newbie", "Newbie-pw-1"),
               ("doveadm user finds the home", user_home("newbie@example.net", f"{ROOT}/vpopmail/domains/{net}/newbie")),
               [("the user logs in", login("newbie@example.net", "Newbie-pw-1", "ok"))]),
        Change("vpasswd.cdb", "deleted user (ursula@example.net)", ("ursula@example.net", "Ursula-net-3"),
               ("the user logs in", login("ursula@example.net", "Ursula-net-3", "ok")),
               lambda: vp_del_user(top, net, "ursula"),
               ("the login is refused", login("ursula@example.net", "Ursula-net-3", "fail")),
               [("doveadm user: unknown (exit 67)", user_unknown("ursula@example.net"))]),
        Change("text vpasswd", "password change (tina@nocdb.example, no vpasswd.cdb)", ("tina@nocdb.example", "Tina-pw1"),
               ("the old password logs in", login("tina@nocdb.example", "Tina-pw1", "ok")),
               lambda: vp_users(top, nocdb, vp_set_password("tina", "Tina-shared-2", MD5)),
               ("the old password is refused", login("tina@nocdb.example", "Tina-pw1", "fail")),
               [("the new password logs in", login("tina@nocdb.example", "Tina-shared-2", "ok"))]),
        Change("users/cdb", "new domain (postmaster@newdom.test)", ("postmaster@newdom.test", "Pm-newdom#1"),
               ("the domain is unknown", user_unknown("postmaster@newdom.test")),
               lambda: vp_add_domain(top, "newdom.test", "Pm-newdom#1"),
               ("doveadm user finds its postmaster",
                user_home("postmaster@newdom.test", f"{ROOT}/vpopmail/domains/newdom.test/postmaster")),
               [("its postmaster logs in", login("postmaster@newdom.test", "Pm-newdom#1", "ok"))]),
        Change(".qmailadmin-limits", "disable_pop added in place (victor@imapoff.example)",
               ("victor@imapoff.example", "Victor-io-1"),
               ("pop3 logs in", login("victor@imapoff.example", "Victor-io-1", "ok", "pop3")),
               add_disable_pop,
               ("pop3 is refused", login("victor@imapoff.example", "Victor-io-1", "fail", "pop3")),
               [("imap is still refused", login("victor@imapoff.example", "Victor-io-1", "fail"))]),
        Change("etc/defaultdomain", "default domain example.com -> example.net, in place", ("alice", "Alice-pw1"),
               ("'alice' (example.com) logs in without a domain", login("alice", "Alice-pw1", "ok")),
               lambda: rewrite_in_place(f"{top}/vpopmail/etc/defaultdomain", b"example.net\n"),
               ("'alice' no longer logs in without a domain", login("alice", "Alice-pw1", "fail")),
               [("'vera' (example.net) logs in without a domain", login("vera", "Vera-md5", "ok"))]),
    ]


def vmailmgr_changes(top):
    org = "example.org"
    return [
        Change("passwd.cdb", "password change (alice@example.org)", (f"alice@{org}", "Alice-Pass-1"),
               ("the old password logs in", login(f"alice@{org}", "Alice-Pass-1", "ok")),
               lambda: vm_users(top, "exorg", vm_set_password("alice", "Alice-shared-2")),
               ("the old password is refused", login(f"alice@{org}", "Alice-Pass-1", "fail")),
               [("the new password logs in", login(f"alice@{org}", "Alice-shared-2", "ok"))]),
        Change("passwd.cdb", "new user (newbie@example.org)", (f"newbie@{org}", "Newbie-pw-1"),
               ("the user is unknown", user_unknown(f"newbie@{org}")),
               lambda: vm_add_user(top, "exorg", "newbie", "Newbie-pw-1"),
               ("doveadm user finds the home", user_home(f"newbie@{org}", f"{ROOT}/vmailmgr/exorg/users/newbie")),
               [("the user logs in", login(f"newbie@{org}", "Newbie-pw-1", "ok"))]),
        Change("passwd.cdb", "deleted user (frank@example.org)", (f"frank@{org}", "Frank-2100"),
               ("the user logs in", login(f"frank@{org}", "Frank-2100", "ok")),
               lambda: vm_del_user(top, "exorg", "frank"),
               ("the login is refused", login(f"frank@{org}", "Frank-2100", "fail")),
               [("doveadm user: unknown (exit 67)", user_unknown(f"frank@{org}"))]),
        Change("control/virtualdomains", "new domain newdom.test:exorg (carol@newdom.test)",
               ("carol@newdom.test", "Carol#pw3"),
               ("the domain is unknown", user_unknown("carol@newdom.test")),
               lambda: vm_add_virtualdomain(top, "newdom.test:exorg"),
               ("doveadm user finds exorg's carol", user_home("carol@newdom.test", f"{ROOT}/vmailmgr/exorg/users/carol")),
               [("carol@newdom.test logs in", login("carol@newdom.test", "Carol#pw3", "ok"))]),
        Change("~/.vmailmgr/password-file", "exnet's store moved to passwd-moved.cdb (ned@example.net)",
               ("ned@example.net", "Ned-md5crypt"),
               ("the old password logs in", login("ned@example.net", "Ned-md5crypt", "ok")),
               lambda: vm_move_password_file(top, "exnet", "passwd-moved", "ned", "Ned-moved-2"),
               ("the old password is refused", login("ned@example.net", "Ned-md5crypt", "fail")),
               [("the password in passwd-moved.cdb logs in", login("ned@example.net", "Ned-moved-2", "ok"))]),
        Change("vm-etc/separators", "separator '#' added (carol#example.org)", ("carol#example.org", "Carol#pw3"),
               ("'carol#example.org' is unknown", user_unknown("carol#example.org")),
               lambda: replace_file(f"{top}/vm-etc/separators", b"@:%#\n", *owner_mode(f"{top}/vm-etc/separators")),
               ("doveadm user finds 'carol#example.org'",
                user_home("carol#example.org", f"{ROOT}/vmailmgr/exorg/users/carol")),
               [("'carol#example.org' logs in", login("carol#example.org", "Carol#pw3", "ok")),
                ("'carol@example.org' still logs in", login("carol@example.org", "Carol#pw3", "ok"))]),
    ]


def seconds_until(probe, bound):
    """Seconds from now to the start of the first call of probe() that returns true (a
    probe's own duration does not count), or None if none did within bound."""
    start = time.monotonic()
    while True:
        asked = time.monotonic()
        if probe():
            return asked - start
        if time.monotonic() - start > bound:
            return None
        time.sleep(0.02)


def etc_stamp():
    """The newest change in /etc itself: the driver watches /etc (getpwnam results), and any
    event in a watched directory makes it recheck every cached file."""
    stamps = [os.stat("/etc").st_ctime_ns]
    with os.scandir("/etc") as it:
        for e in it:
            try:
                stamps.append(e.stat(follow_symlinks=False).st_ctime_ns)
            except OSError:
                pass
    return max(stamps)


def run_changes(dc, checks, label, store, changes, expect_seen, table):
    for ch in changes:
        name = f"{label} {store}: {ch.kind}: {ch.what}"
        dc.user(ch.warm[0])
        dc.auth_test(*ch.warm, "imap", RIP)
        checks.check(f"{name}: before it, {ch.before[0]}", ch.before[1](dc))
        etc = etc_stamp()
        ch.apply()
        took = seconds_until(lambda: ch.seen[1](dc), BOUND)
        # another process writing /etc meanwhile (useradd, a package) refreshes every cache
        etc_changed = etc_stamp() != etc
        shown = (f"{took:.2f}" if took is not None else f"> {BOUND:g} (not seen)") + \
            (" (/etc changed meanwhile)" if etc_changed else "")
        table.append((label, store, ch.kind, ch.what, shown))
        print(f"{name}: {shown} s")
        if expect_seen:
            checks.check(f"{name}: seen within {BOUND:g} s ({ch.seen[0]})", took is not None)
            for what, probe in ch.after:
                checks.check(f"{name}: afterwards {what}", probe(dc))
        else:
            if took is not None and etc_changed:
                print(f"{name}: seen, but /etc changed meanwhile: inconclusive")
            checks.check(f"{name}: NOT seen within {BOUND:g} s (inotify trusted, the cache stays stale)",
                         took is None or etc_changed, f"seen after {shown} s")


def crash_free(dc, checks, label):
    text = dc.log_text() if os.path.exists(dc.log) else ""
    bad = [l for l in text.splitlines() if any(c in l for c in CRASH)]
    checks.check(f"{label}: no process crashed, no Fatal/Panic in the log", not bad, "\n".join(bad[:10]))


def start(args, checks, label, slug, driver_config, baseline):
    """A started Dovecot (work dir args.work-slug: short, Dovecot's socket paths must fit)
    whose baseline login works, or None (check failed: e.g. shared_fs is an unknown argument
    to this build)."""
    dc = Dovecot(f"{args.work}-{slug}", args.module_dir, driver_config)
    try:
        dc.start()
    except RuntimeError as e:
        checks.check(f"{label}: Dovecot starts", False, str(e)[-1500:])
        return None
    result, out = dc.auth_test(*baseline, "imap", RIP)
    if not checks.check(f"{label}: baseline login {baseline[0]} works", result == "ok",
                        out.strip() + "\n" + dc.tail(15)):
        dc.stop()
        return None
    return dc


# --- the runs -------------------------------------------------------------------------------

VP_BASE = ("alice@example.com", "Alice-pw1")
VM_BASE = ("bob.smith@example.org", "B0b-second")
DRIVERS = (("vpopmail", vpopmail_suite.db_config, vpopmail_suite.ARGS, VP_BASE, vpopmail_changes),
           ("vmailmgr", vmailmgr_suite.db_config, vmailmgr_suite.ARGS, VM_BASE, vmailmgr_changes))


def shared_run(args, checks, table, label, extra, pick, expect_seen):
    """Each driver on its FUSE-mounted store; the changes written in the backing dir."""
    for store, config, driver_args, base, changes in DRIVERS:
        fresh(args, store)
        dirs = stores_dirs(store)
        with Mounted(dirs, bindfs):
            types = {d: fs_type(f"{ROOT}/{d}") for d in dirs}
            checks.check(f"{label} {store}: the stores are FUSE mounts (statfs f_type 0x{FUSE_MAGIC})",
                         all(t == FUSE_MAGIC for t in types.values()), str(types))
            dc = start(args, checks, f"{label} {store}", f"{extra.split('=')[-1] or 'auto'}-{store}",
                       config(f"{driver_args} {extra}".strip()), base)
            if dc is None:
                continue
            try:
                with dc.checked(checks, f"{label} {store}: no sanitizer reports"):
                    run_changes(dc, checks, label, store, pick(changes(BACKING)), expect_seen, table)
                    crash_free(dc, checks, f"{label} {store}")
            finally:
                dc.stop()


def local_run(args, checks, table):
    """shared_fs=yes on the plain local tree: stat() per lookup everywhere, changes seen."""
    label = "shared_fs=yes/local"
    for store, config, driver_args, base, changes in DRIVERS:
        fresh(args, store)
        dc = start(args, checks, f"{label} {store}", f"yes-{store}", config(f"{driver_args} shared_fs=yes"), base)
        if dc is None:
            continue
        try:
            with dc.checked(checks, f"{label} {store}: no sanitizer reports"):
                run_changes(dc, checks, label, store, changes(ROOT)[:2], True, table)
                crash_free(dc, checks, f"{label} {store}")
        finally:
            dc.stop()


def bad_value(args, checks):
    dc = Dovecot(f"{args.work}-maybe", args.module_dir,
                 vpopmail_suite.db_config(f"{vpopmail_suite.ARGS} shared_fs=maybe"))
    try:
        dc.start()
        result, _ = dc.auth_test(*VP_BASE, "imap", RIP)
        dc.wait_for_log("shared_fs", timeout=3)
        log = dc.log_text()
    except RuntimeError as e:
        result, log = "fail", str(e)
    finally:
        dc.stop()
    lines = [l for l in log.splitlines() if "shared_fs" in l]
    checks.check("shared_fs=maybe: a config error naming shared_fs (not an unknown argument)",
                 result != "ok" and lines and not any("unknown argument" in l for l in lines), "\n".join(lines[:5]))


def set_eio(path):
    if path is None:
        if os.path.exists(EIO_CONTROL):
            os.unlink(EIO_CONTROL)
    else:
        with open(EIO_CONTROL, "w") as f:
            f.write(path + "\n")


def eio_store(args, checks, store, config, victim, healthy, failing, cached):
    """eio_fs over the store's first dir: read() of `failing` (relative to the mount) fails
    with EIO while EIO_CONTROL names it."""
    label = f"EIO {store}"
    mount_dir = stores_dirs(store)[0]
    fresh(args, store)
    set_eio(None)
    ok = lambda: login(*victim, "ok")(dc)  # noqa: E731
    tempfail = lambda: login(*victim, "tempfail")(dc)  # noqa: E731
    with Mounted((mount_dir,), eio_fs):
        dc = start(args, checks, label, f"eio-{store}", config(), healthy)
        if dc is None:
            return
        try:
            with dc.checked(checks, f"{label}: no sanitizer reports"):
                set_eio(failing)
                mark = len(dc.log_text())
                result, out = dc.auth_test(*victim, "imap", RIP)
                checks.check(f"{label}: read() of {failing} fails: the login is a temporary failure",
                             result == "tempfail", out.strip())
                rc, _f, uout = dc.user(victim[0])
                checks.check(f"{label}: the userdb lookup is a temporary failure (exit 75)", rc == 75, uout.strip())
                dc.wait_for_log(STORE_FAULT, timeout=3)
                log = dc.log_text()[mark:]
                faults = [l for l in log.splitlines() if STORE_FAULT in l]
                print(f"{label}: {faults[0] if faults else '(no store fault logged)'}")
                checks.check(f"{label}: the log has the store-fault error", bool(faults), log[-2000:])
                checks.check(f"{label}: other users still log in", dc.auth_test(*healthy, "imap", RIP)[0] == "ok")
                crash_free(dc, checks, f"{label}: read() EIO")
                set_eio(None)
                checks.check(f"{label}: once reads work again the user logs in (no restart)",
                             seconds_until(ok, BOUND) is not None)
                if cached:
                    # now cached: the other host replaces the file, and reading the new one fails
                    path = f"{BACKING}/{mount_dir}/{failing}"
                    write_replace(path, read_records(path), *owner_mode(path))
                    set_eio(failing)
                    took = seconds_until(tempfail, BOUND)
                    checks.check(f"{label}: {failing} replaced on the other host while cached, its read fails: "
                                 f"temporary failure within {BOUND:g} s", took is not None)
                    set_eio(None)
                    seconds_until(ok, BOUND)
                    # truncated in place under the cache (a mapped file would fault: SIGBUS)
                    saved = open(path, "rb").read()
                    with open(path, "r+b") as f:
                        f.truncate(1000)
                    took = seconds_until(tempfail, BOUND)
                    checks.check(f"{label}: {failing} truncated in place on the other host while cached: "
                                 f"temporary failure within {BOUND:g} s", took is not None)
                    rewrite_in_place(path, saved)
                    checks.check(f"{label}: rewritten in place as it was: the user logs in again within {BOUND:g} s",
                                 seconds_until(ok, BOUND) is not None)
                crash_free(dc, checks, label)
        finally:
            dc.stop()
            set_eio(None)


def nfs_finding():
    """Why a loopback NFS mount cannot be made here (None if the kernel has NFS)."""
    fs = open("/proc/filesystems").read().split()
    release = os.uname().release
    missing = [n for n in ("nfs", "nfsd") if n not in fs]
    if not missing:
        return None
    modules = os.path.isdir(f"/lib/modules/{release}")
    return (f"kernel {release} has no {' and no '.join(missing)} file system in /proc/filesystems"
            + ("" if modules else f" and no loadable modules (/lib/modules/{release} missing)")
            + ": no kernel NFS server, and no NFS client mount (of nfs-ganesha either)")


# run_store.py --only NAME runs one of them
SCENARIOS = ["shared_auto", "shared_no", "local", "bad_value", "eio_vpopmail", "eio_vmailmgr"]


def run(args, checks):
    started = time.time()
    table = []
    cleanup(args, pristine=True)
    try:
        # shared_fs left out: auto (statfs decides), the default
        if checks.scenario("shared_auto"):
            shared_run(args, checks, table, "auto/FUSE", "", lambda cs: cs, True)
        # the first change again with inotify trusted: not seen while cached
        if checks.scenario("shared_no"):
            shared_run(args, checks, table, "shared_fs=no/FUSE", "shared_fs=no", lambda cs: cs[:1], False)
        if checks.scenario("local"):
            local_run(args, checks, table)
        if checks.scenario("bad_value"):
            bad_value(args, checks)
        if checks.scenario("eio_vpopmail"):
            eio_store(args, checks, "vpopmail", vpopmail_suite.db_config, ("rita@example.net", "Rita-net-1"), VP_BASE,
                      "domains/example.net/vpasswd.cdb", True)
        if checks.scenario("eio_vmailmgr"):
            eio_store(args, checks, "vmailmgr", vmailmgr_suite.db_config, ("ned@example.net", "Ned-md5crypt"),
                      VM_BASE, "exnet/passwd.cdb", False)
    finally:
        cleanup(args, pristine=False)
    nfs = nfs_finding()
    print(f"\nNFS over loopback: {'not run: ' + nfs if nfs else 'the kernel has NFS; not exercised by this suite'}")
    print(f"\nstaleness per file kind: seconds until a change written on the other host is seen "
          f"(FUSE caches {FUSE_CACHE} s, bound {BOUND:g} s)")
    print("run | store | file kind | change | staleness s")
    for row in table:
        print(" | ".join(row))
    print(f"\nsharedfs suite: {time.time() - started:.0f} s")
