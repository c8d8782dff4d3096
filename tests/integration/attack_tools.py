"""What the attack and tenant suites share: the fixture stores' places and logins, a Dovecot for
one scenario, attempts and lookups with timeouts, log searches, and store files rewritten as
their owner would (cdb records, plain files, symlinks, FIFOs)."""

import contextlib
import os
import shutil
import stat
import subprocess
import threading
import time
import warnings

from cdb_write import read_records, write_replace
from dovecot_harness import Dovecot, in_workers, driver_config
import fixtures  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

from fixtures import ROOT  # noqa: E402
ATTACK = "/srv/vstore-attack"
VP = f"{ROOT}/vpopmail"
VP_DOMAINS = f"{VP}/domains"
VP_ARGS = f"vpopmail_dir={VP} qmail_dir={ROOT}/qmail webmail_ips=127.0.0.1"
VM_HOMES = f"{ROOT}/vmailmgr"
VM_ARGS = f"qmail_dir={ROOT}/vm-qmail config_dir={ROOT}/vm-etc"
VPOPMAIL = (89, 89)
EXORG, EXNET, LEGACY = (2101, 2101), (2102, 2102), (2104, 2104)

PROBE_TIMEOUT = 15   # doveadm is killed after this
ANSWER_WITHIN = 10   # every attempt must be answered sooner
RELEASE_AFTER = 11   # then FIFO readers are released, so that a hung build does not hang the suite
FAULT = "store fault (temporary failure): "

ALICE = ("alice@example.com", "Alice-pw1")
RITA = ("rita@example.net", "Rita-net-1")
ZOE = ("zoe@deep.example", "Zoe-deep-1")
VM_ALICE = ("alice@example.org", "Alice-Pass-1")
VM_NED = ("ned@example.net", "Ned-md5crypt")


# ---------------------------------------------------------------------------------------------
# helpers

def install(args, store):
    """The fixture store as the real tools wrote it (fixtures.install(), under the lock)."""
    fixtures.install(args.fixtures, store)


def config(driver, driver_args):
    return driver_config(driver, driver_args)


def attempt(dc, login, password, timeout=PROBE_TIMEOUT, service="imap", rip="127.0.0.2"):
    """(result, output, seconds): the harness's auth_test with a timeout; result is 'ok',
    'fail', 'tempfail' or 'timeout'."""
    start = time.monotonic()
    try:
        r = dc.doveadm("auth", "test", "-x", f"service={service}", "-x", f"rip={rip}",
                       "-x", "lip=127.0.0.1", login, password, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", f"no answer within {timeout} s", time.monotonic() - start
    elapsed = time.monotonic() - start
    out = r.stdout + r.stderr
    if r.returncode == 0 and "auth succeeded" in out:
        return "ok", out, elapsed
    if "code=temp_fail" in out or "internal" in out.lower() or r.returncode == 75:
        return "tempfail", out, elapsed
    return "fail", out, elapsed


def lookup(dc, login, timeout=PROBE_TIMEOUT):
    """(returncode or None on timeout, {field: value}, output, seconds) of doveadm user."""
    start = time.monotonic()
    try:
        r = dc.doveadm("user", "-x", "service=imap", login, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, {}, f"no answer within {timeout} s", time.monotonic() - start
    fields = {}
    for line in r.stdout.splitlines():
        if "\t" in line:
            k, v = line.split("\t", 1)
            fields[k.strip()] = v
    return r.returncode, fields, r.stdout + r.stderr, time.monotonic() - start


def concurrently(fn, calls):
    """Runs fn(*call) for every call on its own thread; the results in order."""
    results = [None] * len(calls)

    def one(i, call):
        results[i] = fn(*call)

    threads = [threading.Thread(target=one, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def log_mark(dc):
    return len(dc.log_text()) if os.path.exists(dc.log) else 0


def logged(dc, mark, *needles, timeout=5):
    """The first log line written after mark that holds every needle (the log process writes
    asynchronously: waits up to timeout), else None."""
    deadline = time.time() + timeout
    while True:
        for line in dc.log_text()[mark:].splitlines():
            if all(n in line for n in needles):
                return line
        if time.time() >= deadline:
            return None
        time.sleep(0.1)


def fault_logged(dc, mark, path, timeout=5):
    return logged(dc, mark, "Error", FAULT, path, timeout=timeout)


def describe(path):
    """What must not change about a root-owned target: content, owner, mode, inode, mtime."""
    st = os.lstat(path)
    content = open(path, "rb").read() if stat.S_ISREG(st.st_mode) else None
    return {"content": content, "uid": st.st_uid, "gid": st.st_gid, "mode": oct(st.st_mode),
            "ino": st.st_ino, "mtime_ns": st.st_mtime_ns}


def listing(path):
    """{name: (uid, gid, mode, inode)} of a directory."""
    out = {}
    for name in os.listdir(path):
        st = os.lstat(os.path.join(path, name))
        out[name] = (st.st_uid, st.st_gid, oct(st.st_mode), st.st_ino)
    return out


def new_entries(before, after):
    return {n: v for n, v in after.items() if before.get(n) != v}


def root_dir(path, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chown(path, 0, 0)
    os.chmod(path, mode)
    return path


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def md5crypt(password):
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_MD5))


def vpasswd_value(hashed, directory, flags=0):
    return f"{hashed}:1:{flags}:x:{directory}:NOQUOTA".encode()


def vmailmgr_v2(password, directory):
    """A version-2 record as vmailmgr 0.97 writes it: mailbox, enabled, no forwards."""
    z = b"\0"
    return (b"\x02\x0a\x01\x08\x01\x00" + password.encode() + z + directory.encode() + z + z + b"attack" + z
            + b"-\0-\0-\0-\0" + b"1795294514\0" + b"-\0")


def set_record(path, key, value, owner, mode=0o600):
    """Adds or replaces one record and renames the new cdb over the old (as the tools do)."""
    records = [(k, v) for k, v in read_records(path) if k != key.encode()]
    write_replace(path, records + [(key.encode(), value)], *owner, mode=mode)


def write_file(path, data, owner, mode=0o644):
    tmp = path + ".attack-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chown(tmp, *owner)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def symlink_as(target, path, owner):
    remove(path)
    os.symlink(target, path)
    os.lchown(path, *owner)


def not_run(checks, names, why):
    for name in names:
        checks.check(name, False, f"not run: {why}")


@contextlib.contextmanager
def scenario_dovecot(args, checks, name, conf, good):
    """A Dovecot for one scenario. Yields it once it started and logged `good` in, which also
    proves that the driver accepted its args (the new args are unknown to an old build);
    else yields None, and the scenario reports its checks as not run."""
    dc = Dovecot(args.work + "-" + name, args.module_dir, conf)
    try:
        try:
            dc.start()
        except RuntimeError as e:
            checks.check(f"{name}: Dovecot starts with these args and logs {good[0]} in", False, str(e)[-2000:])
            yield None
            return
        with dc.checked(checks, f"{name}: no sanitizer reports"):
            result, out, _ = attempt(dc, *good)
            live = checks.check(f"{name}: Dovecot starts with these args and logs {good[0]} in", result == "ok",
                                f"{result}: {out.strip()}\n{dc.tail(15)}")
            yield dc if live else None
    finally:
        dc.stop()  # also kills workers stuck in crypt() or open()


# ---- FIFOs: a driver that opens one without O_NONBLOCK hangs in open() until a writer comes

def make_fifo(path, owner, age=None):
    remove(path)
    os.mkfifo(path, 0o600)
    os.chown(path, *owner)
    if age:
        os.utime(path, (time.time() - age, time.time() - age))


def release_readers(path):
    """Opens the write end once and closes it: every reader blocked in open() returns (and
    reads end-of-file). The fixed driver never blocks; this only keeps an old build from
    leaving workers hung for the rest of the suite."""
    try:
        if not stat.S_ISFIFO(os.lstat(path).st_mode):
            return
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return  # gone, or no reader (ENXIO)
    os.close(fd)


@contextlib.contextmanager
def releasing(paths, after=RELEASE_AFTER):
    """From `after` seconds on, releases the FIFOs' blocked readers every 0.2 s."""
    stop = threading.Event()

    def run():
        if stop.wait(after):
            return
        while not stop.wait(0.2):
            for p in paths:
                release_readers(p)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()
        for p in paths:
            release_readers(p)


class Saved:
    """A store file's bytes, owner and mode, to put back after an attack replaced it."""

    def __init__(self, path):
        self.path, self.data = path, None
        if os.path.lexists(path):
            st = os.lstat(path)
            self.data, self.owner, self.mode = open(path, "rb").read(), (st.st_uid, st.st_gid), st.st_mode & 0o7777

    def restore(self):
        release_readers(self.path)
        remove(self.path)
        if self.data is not None:
            write_file(self.path, self.data, self.owner, self.mode)


class VictimLogins:
    """Logins of another tenant's user, one after another on a thread, while an attack runs:
    what each answered and how long it took. The victim's hash is cheap, so any wait beyond a
    few milliseconds is time spent behind the attacker."""

    def __init__(self, dc, login, password, pause=0.05):
        self.dc, self.login, self.password, self.pause = dc, login, password, pause
        self.results, self.seconds = [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            result, out, secs = attempt(self.dc, self.login, self.password)
            self.results.append(result)
            self.seconds.append(secs)
            self._stop.wait(self.pause)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def all_ok(self):
        return bool(self.results) and all(r == "ok" for r in self.results)

    def worst(self):
        return max(self.seconds) if self.seconds else float("inf")

    def summary(self):
        if not self.seconds:
            return "no victim login ran"
        s = sorted(self.seconds)
        return (f"{len(s)} logins, median {s[len(s) // 2] * 1000:.0f} ms, worst {s[-1] * 1000:.0f} ms, "
                f"results {sorted(set(self.results))}")
