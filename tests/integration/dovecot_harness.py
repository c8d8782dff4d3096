"""A private Dovecot for tests: its own base_dir, log file and 127.0.0.1 ports, with this
build's auth module bind-mounted over Dovecot's auth module dir in a private mount namespace
(the auth process loads modules only from its compiled-in directory).

The suites write 2.3 configuration (passdb { driver = ... args = ... }, mail_location). When
the Dovecot here is 2.4 (a root of tests/roots/), the harness writes the same
configuration in 2.4's syntax (named settings, mail_driver/mail_path) and the helpers below
give each version's userdb fields, so that one suite checks both versions."""

import contextlib
import functools
import hashlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
DOVECONF = "/usr/bin/doveconf"
AUTH_MODULE_DIR = "/usr/lib/dovecot/modules/auth"


def free_ports(n):
    """n distinct free ports on 127.0.0.1 (all bound at once, so the kernel cannot hand out
    one of them twice)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()




@functools.lru_cache(maxsize=None)
def dovecot_version():
    out = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True).stdout
    m = re.match(r"(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def is_24():
    return dovecot_version() >= (2, 4)


from settings_table import setting_for_arg  # noqa: E402 (the drivers' settings_list.h)


def _translate_db_block(kind, lines, used_names):
    driver = next((l.split("=", 1)[1].strip() for l in lines if l.strip().startswith("driver")), "")
    args = next((l.split("=", 1)[1].strip() for l in lines if l.strip().startswith("args")), "")
    name = driver
    n = 2
    while (kind, name) in used_names:
        name, n = f"{driver}{n}", n + 1
    used_names.add((kind, name))
    out = [f"{kind} {name} {{", f"  driver = {driver}"]
    words = [w.split("=", 1) for w in args.split() if "=" in w]
    if driver in ("vpopmail", "vmailmgr"):
        out += [f"  {setting_for_arg(driver, k)} = {v}" for k, v in words]
    elif words:
        out += ["  fields {"] + [f"    {k} = {v.replace('%h', '%{home}')}" for k, v in words] + ["  }"]
    out += [l for l in lines if not re.match(r"\s*(driver|args)\s*=", l)]
    return out + ["}"]


def to_24(text):
    """The suites' 2.3 db/mail configuration in 2.4 syntax."""
    out, block, used = [], None, set()
    for line in text.splitlines():
        if block is not None:
            if line.strip() == "}":
                out += _translate_db_block(block[0], block[1], used)
                block = None
            else:
                block[1].append(line)
            continue
        m = re.match(r"^(passdb|userdb)\s*\{\s*$", line)
        if m:
            block = (m.group(1), [])
            continue
        m = re.match(r"^mail_location\s*=\s*(\w+):(.*)$", line)
        if m:
            out += [f"mail_driver = {m.group(1)}", f"mail_path = {m.group(2).replace('%h', '%{home}')}"]
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def expected_mail_fields(maildir):
    """The userdb fields that name a user's maildir."""
    if is_24():
        return {"mail_driver": "maildir", "mail_path": maildir}
    return {"mail": "maildir:" + maildir.replace(":", "::")}


def expected_quota_fields(storage_bytes, messages):
    """The userdb fields for a quota (None: no limit); a field that must be absent is None."""
    if is_24():
        return {"quota_storage_size": None if storage_bytes is None else str(storage_bytes),
                "quota_message_count": None if messages is None else str(messages)}
    rule = ""
    if storage_bytes is not None:
        rule += f":storage={storage_bytes}B"
    if messages is not None:
        rule += f":messages={messages}"
    return {"quota_rule": "*" + rule if rule else None}


def unknown_arg_error(driver, key):
    """What Dovecot says about an unknown driver arg (2.3) or setting (2.4)."""
    if is_24():
        return f"Unknown setting: {setting_for_arg(driver, key)}"
    return f"unknown argument '{key}'"


def base_config(work, imap_port, pop3_port, first_valid_uid=80, debug=True, run_dir=None):
    """run_dir: base_dir (default work/run; see make_run_dir())."""
    run_dir = run_dir or os.path.join(work, "run")
    yes_no = "yes" if debug else "no"
    if is_24():
        # vpopmail and vmailmgr stores hold MD5-crypt, DES and PLAIN-MD5 hashes, which 2.4
        # refuses unless auth_allow_weak_schemes is set.
        version = "dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\n"
        auth = "auth_allow_cleartext = yes\nauth_allow_weak_schemes = yes\n"
        mail = "mail_driver = maildir\nmail_path = ~/Maildir\n"
    else:
        version = ""
        auth = "disable_plaintext_auth = no\n"
        mail = "mail_location = maildir:~/Maildir\n"
    return version + f"""# generated by the vstore-auth test suite
auth_debug = {yes_no}
auth_verbose = {yes_no}
base_dir = {run_dir}
state_dir = {work}/state
log_path = {work}/dovecot.log
info_log_path = {work}/dovecot.log
debug_log_path = {work}/dovecot.log
instance_name = vstore-test-{os.getpid()}
protocols = imap pop3
listen = 127.0.0.1
ssl = no
{auth}auth_mechanisms = plain login cram-md5
auth_username_chars =
auth_failure_delay = 0
auth_verbose_passwords = no
first_valid_uid = {first_valid_uid}
first_valid_gid = {first_valid_uid}
{mail}service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
# Failed logins from one address would otherwise be delayed up to 15 s.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def driver_config(driver, args, userdb=None):
    """The auth configuration a test Dovecot gets: a passdb and a userdb of driver with args,
    and nothing else (stock service settings: auth as dovecot, auth-worker as root).
    userdb: (driver, args) of another userdb."""
    udriver, uargs = userdb or (driver, args)
    return f"""
passdb {{
  driver = {driver}
  args = {args}
}}
userdb {{
  driver = {udriver}
  args = {uargs}
}}
"""


# A unix socket's path holds at most 107 bytes; Dovecot's longest below base_dir is
# "token-login/imap-urlauth" (24). Leave room for that and a little more.
_SOCKET_NAME_ROOM = 32
_SUN_PATH_MAX = 107


def make_run_dir(work):
    """Dovecot's base_dir for a Dovecot working in work: work/run, unless a clone's deep path
    would make its sockets' paths too long for bind(); then a short directory in /tmp named
    after work, with work/run a symlink to it."""
    run = os.path.join(work, "run")
    if len(run) + 1 + _SOCKET_NAME_ROOM <= _SUN_PATH_MAX:
        os.makedirs(run)
        return run
    digest = hashlib.sha1(work.encode()).hexdigest()[:12]
    short = os.path.join(tempfile.gettempdir(), f"vstore-run-{digest}")
    shutil.rmtree(short, ignore_errors=True)
    os.makedirs(short)
    os.chmod(short, 0o755)
    os.symlink(short, run)
    return short


def _propagation():
    """unshare's --propagation for Dovecot's mount namespace: private, unless / is no mount point
    (a chroot into a Debian root of tests/roots/, which its runner made private already)."""
    with open("/proc/self/mountinfo") as f:
        return "private" if any(line.split()[4] == "/" for line in f) else "unchanged"


class Dovecot:
    """binds: (file, path) pairs bind-mounted in this Dovecot's private mount namespace, e.g. a
    patched libdovecot-storage.so.0 over the system's (tests/patch/)."""

    def __init__(self, work, module_dir, db_config, first_valid_uid=80, binds=(), strace=None, debug=True,
                 installed=False):
        self.work = os.path.abspath(work)
        self.module_dir = os.path.abspath(module_dir)
        self.binds = [(os.path.abspath(f), p) for f, p in binds]
        self.strace = strace  # file to write an strace -f of every file syscall to
        # use the module installed in Dovecot's module dir (the Debian 13 root has it installed)
        self.installed = (installed or os.environ.get("VSTORE_MODULE_INSTALLED") == "1"
                          or os.path.realpath(self.module_dir) == os.path.realpath(AUTH_MODULE_DIR))
        self.imap_port, self.pop3_port = free_ports(2)
        self.conf = os.path.join(self.work, "dovecot.conf")
        self.log = os.path.join(self.work, "dovecot.log")
        self.proc = None
        if os.path.exists(self.work):
            shutil.rmtree(self.work)
        os.makedirs(os.path.join(self.work, "state"))
        os.chmod(self.work, 0o755)
        self.run_dir = make_run_dir(self.work)
        self.env = dict(os.environ)
        with open(self.conf, "w") as f:
            f.write(base_config(self.work, self.imap_port, self.pop3_port, first_valid_uid, debug,
                                run_dir=self.run_dir))
            asan = os.environ.get("VSTORE_ASAN_PRELOAD")
            if asan:
                # The module was built with ASan+UBSan: every Dovecot process gets the runtime,
                # and no address-space limit (ASan reserves terabytes of shadow memory).
                self.env["LD_PRELOAD"] = asan
                self.env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0:halt_on_error=1"
                self.env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
                f.write("import_environment = LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS TZ\n")
                f.write("default_vsz_limit = 0\n")
            f.write(to_24(db_config) if is_24() else db_config)

    def _auth_modules(self):
        """The auth module dir this Dovecot sees: this build's modules, and the SQL driver
        modules of the system's dir (dovecot-mysql's libdriver_mysql.so), which the auth process
        loads at start and the vpopmail MySQL backend uses."""
        d = os.path.join(self.work, "auth-modules")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name in os.listdir(self.module_dir):
            src = os.path.join(self.module_dir, name)
            os.symlink(os.readlink(src) if os.path.islink(src) else os.path.abspath(src), os.path.join(d, name))
        for name in os.listdir(AUTH_MODULE_DIR) if os.path.isdir(AUTH_MODULE_DIR) else []:
            if name.startswith("libdriver_") and not os.path.lexists(os.path.join(d, name)):
                os.symlink(os.path.realpath(os.path.join(AUTH_MODULE_DIR, name)), os.path.join(d, name))
        return d

    def start(self):
        mounts = list(self.binds)
        if not self.installed:
            mounts.insert(0, (self._auth_modules(), AUTH_MODULE_DIR))
        if mounts:
            tracer = f"strace -f -qq -e trace=%file -s 20000 -o {self.strace} " if self.strace else ""
            script = "".join(f"mount --bind {shlex.quote(f)} {shlex.quote(p)} && " for f, p in mounts)
            script += f"exec {tracer}{DOVECOT} -F -c {self.conf}"
            cmd = ["unshare", "--mount", "--propagation", _propagation(), "sh", "-c", script]
        else:
            cmd = [DOVECOT, "-F", "-c", self.conf]
        self.proc = subprocess.Popen(cmd, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log + ".stderr", "w"),
                                     start_new_session=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.proc.returncode}:\n{self.tail()}")
            if self._port_open(self.imap_port) and os.path.exists(self.socket("auth-userdb")):
                return self
            time.sleep(0.1)
        raise RuntimeError("dovecot did not start in 20 s:\n" + self.tail())

    def socket(self, name):
        """The path of one of this Dovecot's sockets (or master.pid) in its base_dir."""
        return os.path.join(self.run_dir, name)

    def stop(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        # What is left of the process group: a worker busy in crypt() or blocked in open()
        # ignores the SIGTERM its master got and would outlive it.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @staticmethod
    def _port_open(port):
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", port)) == 0

    def tail(self, n=40):
        out = []
        for path in (self.log + ".stderr", self.log):
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    out += f.read().splitlines()[-n:]
        return "\n".join(out)

    def sanitizer_reports(self):
        """Lines of ASan/UBSan reports in the log (empty for a clean run)."""
        text = self.log_text() if os.path.exists(self.log) else ""
        if os.path.exists(self.log + ".stderr"):
            with open(self.log + ".stderr", errors="replace") as f:
                text += f.read()
        return [l for l in text.splitlines()
                if "AddressSanitizer" in l or "runtime error:" in l or "LeakSanitizer" in l]

    @contextlib.contextmanager
    def checked(self, checks, name="no sanitizer reports in the Dovecot log"):
        """Around a block of checks on this Dovecot: after it, a check that the log holds no
        sanitizer report; if any check failed, the log's tail is printed."""
        try:
            yield self
            reports = self.sanitizer_reports()
            checks.check(name, not reports, "\n".join(reports[:20]))
        finally:
            if checks.failed:
                print("--- dovecot log tail ---\n" + self.tail(60))

    def child_pids(self, title):
        """The pids of this Dovecot's processes titled <instance>/<title> (exactly); an auth
        worker is "auth-worker", the store broker (a child of the auth process with its title)
        "vstore-broker"."""
        parent, title_of = {}, {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                title_of[int(d)] = argv[0].decode(errors="replace").split(" ")[0]
                if title_of[int(d)].endswith("/auth") and argv[1:2] == [b"-w"]:
                    title_of[int(d)] += "-worker"  # 2.3 titles its auth workers "auth -w"
                with open(f"/proc/{d}/comm") as f:
                    if f.read().strip() == "vstore-broker":
                        title_of[int(d)] = "/vstore-broker"
            except (OSError, IndexError, ValueError):
                continue

        def descends(pid):
            for _ in range(8):  # the master may run below a wrapper (unshare, env)
                pid = parent.get(pid, 0)
                if pid == self.proc.pid:
                    return True
                if pid <= 1:
                    return False
            return False

        return [pid for pid, t in title_of.items() if t.endswith(f"/{title}") and descends(pid)]

    def wait_for_log(self, needle, timeout=10):
        """Dovecot's log process writes asynchronously: wait until needle shows up."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.log) and needle in self.log_text():
                return True
            time.sleep(0.1)
        return False

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def doveadm(self, *args, timeout=30):
        return subprocess.run([DOVEADM, "-c", self.conf, *args], capture_output=True, text=True,
                              timeout=timeout)

    @staticmethod
    def _info(extra):
        args = []
        for k, v in (extra or {}).items():
            args += ["-x", f"{k}={v}"]
        return args

    def auth_test(self, login, password, service, rip, extra=None):
        """(result, output): result is 'ok', 'fail' or 'tempfail'."""
        r = self.doveadm("auth", "test", "-x", f"service={service}", "-x", f"rip={rip}",
                         "-x", "lip=127.0.0.1", *self._info(extra), login, password)
        out = r.stdout + r.stderr
        if r.returncode == 0 and "auth succeeded" in out:
            return "ok", out
        if "code=temp_fail" in out or "internal" in out.lower() or r.returncode == 75:
            return "tempfail", out
        return "fail", out

    def user(self, login, service="imap", extra=None):
        """(returncode, {field: value}, output)"""
        r = self.doveadm("user", "-x", f"service={service}", *self._info(extra), login)
        fields = {}
        for line in r.stdout.splitlines():
            if "\t" in line:
                k, v = line.split("\t", 1)
                fields[k.strip()] = v
        return r.returncode, fields, r.stdout + r.stderr


@contextlib.contextmanager
def in_workers(args, checks, db_config, driver_args):
    """A Dovecot whose passdb and userdb run in the root auth workers (blocking=yes, 2.4:
    use_worker = yes). After the block's checks: a worker served them, and the log holds no
    sanitizer report."""
    with Dovecot(args.work + "-workers", args.module_dir, db_config(f"{driver_args} blocking=yes")) as dc, \
            dc.checked(checks, "workers: no sanitizer reports"):
        yield dc
        checks.check("workers: auth workers served the lookups", worker_lookups(dc) > 0, dc.tail(20))


def worker_lookups(dc):
    """How many passdb/userdb requests the auth workers handled (the log says, at auth_debug; the
    worker's prefix is "auth-worker(<pid>): " up to 2.4.1, "auth-worker: " in 2.4.5)."""
    return len(re.findall(r"auth-worker(?:\(\d+\))?: .*Handling (?:PASSV|PASSL|USER) request", dc.log_text()))


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split(":", 1)[1].split()
    return []


def check_store_broker(dc, checks, login, password, touch):
    """The default (driver and args only, stock service settings): the auth process, running as
    dovecot, reads the store itself through its store broker, verifies on its threads and never
    looks up in an auth worker. The broker keeps only CAP_SETUID/CAP_SETGID. When it is killed, the
    next lookup that reaches the file system (after `touch` changed a store file) is a temporary
    failure, the auth process ends, and Dovecot's next one (with a new broker) logs in again."""
    import pwd
    auths, brokers = dc.child_pids("auth"), dc.child_pids("vstore-broker")
    def describe(pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            return f"{pid}: {cmdline} ppid {proc_status(pid, 'PPid')}"
        except OSError:
            return f"{pid}: gone"
    checks.check("default: one auth process and one store broker", len(auths) == 1 and len(brokers) == 1,
                 f"auth {[describe(p) for p in auths]}, brokers {brokers}")
    if len(auths) != 1 or len(brokers) != 1:
        return
    dovecot_uid = str(pwd.getpwnam("dovecot").pw_uid)
    checks.check("default: the auth process runs as dovecot", proc_status(auths[0], "Uid")[:1] == [dovecot_uid],
                 proc_status(auths[0], "Uid"))
    checks.check("default: the broker is the auth process's child, with CAP_SETUID and CAP_SETGID only",
                 proc_status(brokers[0], "PPid") == [str(auths[0])] and
                 proc_status(brokers[0], "CapEff") == ["00000000000000c0"],
                 f"{proc_status(brokers[0], 'PPid')} {proc_status(brokers[0], 'CapEff')}")
    checks.check("default: no lookup ran in an auth worker (2.3 lists users in one, as for every userdb)",
                 worker_lookups(dc) == 0, dc.tail(20))
    checks.check("default: the auth process verifies on its threads",
                 dc.wait_for_log("verifying crypt password hashes on"), dc.tail(20))
    os.kill(brokers[0], 9)
    touch()
    results = []
    for _ in range(40):
        results.append(dc.auth_test(login, password, "imap", "127.0.0.2")[0])
        if results[-1] == "ok":
            break
        time.sleep(0.25)
    checks.check("broker killed: temporary failures, then a new auth process logs in, never a wrong password",
                 results[0] == "tempfail" and results[-1] == "ok" and set(results) <= {"ok", "tempfail"}, f"{results}\n{dc.tail(20)}")
    checks.check("broker killed: the auth process says why it ends",
                 dc.wait_for_log("is gone or did not answer") and dc.wait_for_log("ending this auth process"),
                 dc.tail(20))
    new = dc.child_pids("vstore-broker")
    checks.check("broker killed: the new auth process has a broker of its own", len(new) == 1 and new != brokers,
                 f"{brokers} -> {new}")


def examples_dir(source):
    """conf.d-examples/ for this Dovecot: 2.4 has its own syntax in conf.d-examples/2.4/."""
    return os.path.join(source, "conf.d-examples", "2.4") if is_24() else os.path.join(source, "conf.d-examples")


def doveconf_n(conf_text, work):
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "doveconf-check.conf")
    with open(path, "w") as f:
        f.write(conf_text)
    return subprocess.run([DOVECONF, "-n", "-c", path], capture_output=True, text=True)
