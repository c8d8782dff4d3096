"""A private MariaDB server for tests, and the vpopmail-sql fixture installed into it.

    from mariadb import MariaDB, install_fixture

    with MariaDB("/tmp/work/mariadb") as db:          # mariadb-install-db + mariadbd, as root
        install_fixture(db, "tests/fixtures")         # tests/fixtures/install.sh vpopmail-sql
        db.sql("SELECT COUNT(*) FROM vpopmail", db="vpopmail_dev")   # -> "128\\n"
        db.kill()                                     # SIGKILL (fault tests)
        db.start()                                    # same datadir: InnoDB crash recovery

The server reads no option file (--no-defaults), listens on its own unix socket
(<work_dir>/mysqld.sock) and on 127.0.0.1:<a free port> only, and keeps its datadir, log, pid
file and tmpdir under work_dir. Grant tables are real (no --skip-grant-tables): root logs in
without a password over the socket, and SQL users made by a test are checked as on a real
server. Character set and collation default to utf8mb4 / utf8mb4_general_ci, as Debian's
packaged server is configured.

Needs root (mariadbd runs as root with --user=root) and the Debian packages mariadb-server and
mariadb-client (.ci/packages.txt).
"""

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
CLIENT = shutil.which("mariadb") or "/usr/bin/mariadb"

import fixtures

# Small and quick: a test server holds a few hundred rows.
_SERVER_OPTIONS = [
    "--innodb-buffer-pool-size=16M",
    "--innodb-log-file-size=16M",
    "--skip-name-resolve",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
]

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child before exec: SIGTERM (a clean shutdown) when the process that started the
    server dies, so that a test killed by a timeout leaves no server behind. Linux sends it
    when the starting *thread* ends: start servers from a thread that outlives them."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except Exception:
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SqlError(RuntimeError):
    def __init__(self, statement, result):
        self.statement = statement
        self.returncode = result.returncode
        self.stderr = result.stderr
        super().__init__(f"mariadb exited {result.returncode}: {result.stderr.strip()}\n"
                         f"statement: {statement}")


class MariaDB:
    """A mariadbd of its own under work_dir.

    MariaDB(work_dir, fresh=True): with fresh (the default) the first start() removes what an
    earlier server left in work_dir (datadir, tmp/, socket, pid file, logs; nothing else) and
    makes a new datadir; with fresh=False an existing datadir is reused. Later start() calls
    (after stop() or kill()) always reuse the datadir, and the port, of the first.

    Attributes: work_dir, datadir, socket, port (chosen at the first start), pid_file,
    log_file, proc (the Popen while running)."""

    def __init__(self, work_dir, fresh=True, start_timeout=60):
        self.work_dir = os.path.abspath(work_dir)
        self.datadir = os.path.join(self.work_dir, "data")
        self.socket = os.path.join(self.work_dir, "mysqld.sock")
        self.pid_file = os.path.join(self.work_dir, "mysqld.pid")
        self.log_file = os.path.join(self.work_dir, "mysqld.err")
        self.tmp_dir = os.path.join(self.work_dir, "tmp")
        self._stdout_file = os.path.join(self.work_dir, "mysqld.stdout")
        self.port = None
        self.proc = None
        self._log_offset = 0
        self.start_timeout = start_timeout
        self._fresh = fresh
        # sun_path is 108 bytes with its NUL
        if len(os.fsencode(self.socket)) > 107:
            raise ValueError(f"socket path too long for a unix socket: {self.socket}")
        atexit.register(self._at_exit)

    # --- life cycle -------------------------------------------------------------------

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        if self.proc is not None:
            raise RuntimeError("MariaDB already running")
        self._kill_leftover()
        if self._fresh:
            self._remove_own_files()
            self._fresh = False
        if not os.path.isdir(os.path.join(self.datadir, "mysql")):
            self._install_db()
        os.makedirs(self.tmp_dir, exist_ok=True)
        if self.port is None:
            self.port = free_port()
        cmd = [MARIADBD, "--no-defaults",
               f"--datadir={self.datadir}", f"--socket={self.socket}",
               f"--port={self.port}", "--bind-address=127.0.0.1",
               f"--pid-file={self.pid_file}", f"--log-error={self.log_file}",
               f"--tmpdir={self.tmp_dir}", "--user=root"] + _SERVER_OPTIONS
        try:
            self._log_offset = os.path.getsize(self.log_file)
        except OSError:
            self._log_offset = 0
        with open(self._stdout_file, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + self.start_timeout
        while not self._answers():
            if self.proc.poll() is not None:
                rc, self.proc = self.proc.returncode, None
                raise RuntimeError(f"mariadbd exited with {rc}:\n{self.tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"mariadbd did not answer in {self.start_timeout} s:\n{self.tail()}")
            time.sleep(0.02)
        return self

    def stop(self, timeout=60):
        """A clean shutdown (SIGTERM); SIGKILL if it takes longer than timeout seconds."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def kill(self):
        """SIGKILL, as a crash: no shutdown, InnoDB recovers at the next start()."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait()
        self.proc = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _at_exit(self):
        if self.proc is not None:
            with contextlib.suppress(Exception):
                self.kill()

    def _remove_own_files(self):
        """The datadir and the files this class puts in work_dir; nothing else there."""
        for d in (self.datadir, self.tmp_dir):
            shutil.rmtree(d, ignore_errors=True)
        for f in (self.socket, self.pid_file, self.log_file, self._stdout_file):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f)

    def _install_db(self):
        os.makedirs(self.work_dir, exist_ok=True)
        os.chmod(self.work_dir, 0o755)
        r = subprocess.run([INSTALL_DB, "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                            "--auth-root-authentication-method=normal", "--skip-test-db"]
                           + _SERVER_OPTIONS,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"mariadb-install-db exited {r.returncode}:\n{r.stdout}{r.stderr}")

    def _kill_leftover(self):
        """A server an earlier, killed run left on this datadir (found by its pid file)."""
        try:
            with open(self.pid_file) as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, ValueError):
            return
        if os.fsencode(f"--datadir={self.datadir}") in cmdline.split(b"\0"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            for _ in range(500):
                if not os.path.exists(f"/proc/{pid}"):
                    break
                time.sleep(0.01)

    def _answers(self):
        """This start's "ready for connections" is in the log (mariadbd writes it once the
        socket and the port listen, after any crash recovery) and the socket is there. No probe
        connection: it would leave an "Aborted connection" warning in the log for each try."""
        if not os.path.exists(self.socket):
            return False
        try:
            with open(self.log_file, "rb") as f:
                f.seek(self._log_offset)
                return b"ready for connections" in f.read()
        except OSError:
            return False

    def tail(self, n=30):
        try:
            with open(self.log_file, errors="replace") as f:
                return "\n".join(f.read().splitlines()[-n:])
        except OSError:
            return "(no log)"

    # --- the client -------------------------------------------------------------------

    def client(self, statement, db=None, user="root", password=None, tcp=False, timeout=30):
        """Runs the mariadb client (batch mode, no column names, utf8mb4) on one or more
        statements and returns the CompletedProcess, whatever its exit status. As root over
        the socket by default; user/password for another account, tcp=True to go through
        127.0.0.1:port instead (the password goes through MYSQL_PWD, not argv)."""
        cmd = [CLIENT, "--no-defaults", "--batch", "--skip-column-names",
               "--default-character-set=utf8mb4", "-u", user]
        if tcp:
            cmd += ["--protocol=TCP", "-h", "127.0.0.1", "-P", str(self.port)]
        else:
            cmd += ["-S", self.socket]
        if db:
            cmd.append(db)
        cmd += ["-e", statement]
        env = dict(os.environ)
        env.pop("MYSQL_PWD", None)
        if password is not None:
            env["MYSQL_PWD"] = password
        return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)

    def sql(self, statement, db=None, user="root", password=None, tcp=False):
        """client(), but returns stdout (tab-separated rows, one a line) and raises SqlError if
        the client failed."""
        r = self.client(statement, db=db, user=user, password=password, tcp=tcp)
        if r.returncode != 0:
            raise SqlError(statement, r)
        return r.stdout


# --- the vpopmail-sql fixture --------------------------------------------------------------

def install_fixture(db, fixtures_dir, tcp=False, base=None, lock_timeout=None):
    """Installs the vpopmail-sql store for server db with fixtures.install(): install.sh
    vpopmail-sql --socket db.socket (or --host 127.0.0.1 --port db.port with tcp=True, which
    also makes etc/vpopmail.mysql name that host and port), under the fixtures lock. base,
    lock_timeout: as for fixtures.install(). Returns the installer's output; raises
    CalledProcessError."""
    server = ["--host", "127.0.0.1", "--port", str(db.port)] if tcp else ["--socket", db.socket]
    return fixtures.install(fixtures_dir, "vpopmail-sql", *server, base=base, lock_timeout=lock_timeout)
