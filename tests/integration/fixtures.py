"""The fixture stores under /srv/vstore-fixtures, shared by every test run on this machine:
installing them (tests/fixtures/install.sh) and the lock that keeps two runs from writing
them at once. run_store.py holds the lock for a whole suite; anything else that writes there
takes it too (`flock /tmp/vstore-fixtures.lock CMD` from a shell)."""

import contextlib
import fcntl
import os
import subprocess
import time

# Where install.sh puts the stores (its VSTORE_FIXTURE_BASE: a scratch place for checking the
# installer only; the stores' own files name this path).
ROOT = "/srv/vstore-fixtures"
# Taken by everything that writes under /srv/vstore-fixtures (shared with other test runs).
FIXTURES_LOCK = "/tmp/vstore-fixtures.lock"

_lock_fd = None
_lock_depth = 0


@contextlib.contextmanager
def fixtures_lock(timeout=None):
    """Holds /tmp/vstore-fixtures.lock (flock, exclusive; the lock `flock
    /tmp/vstore-fixtures.lock CMD` takes) for the block. Re-entrant within this process, so a
    test can hold it around install() and the checks that need the installed files.
    Other test runs may hold it for minutes; timeout (seconds) raises TimeoutError instead of
    waiting longer."""
    global _lock_fd, _lock_depth
    if _lock_depth == 0:
        fd = os.open(FIXTURES_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            if timeout is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"{FIXTURES_LOCK} still held after {timeout} s")
                        time.sleep(0.1)
        except BaseException:
            os.close(fd)
            raise
        _lock_fd = fd
    _lock_depth += 1
    try:
        yield
    finally:
        _lock_depth -= 1
        if _lock_depth == 0:
            os.close(_lock_fd)  # closing the last descriptor releases the flock
            _lock_fd = None


def install(fixtures_dir, store, *options, quiet=True, base=None, lock_timeout=None):
    """tests/fixtures/install.sh STORE [OPTIONS...] under fixtures_lock(): the store
    (vpopmail, vmailmgr, vpopmail-sql) as the real tools wrote it, its owners and modes
    included; the one way the tests install a fixture. options: the installer's further
    arguments (vpopmail-sql: --socket PATH, or --host H --port N). quiet: the installer's
    output is not shown but returned (otherwise it goes to stdout and None is returned); its
    errors are always shown. base: a scratch VSTORE_FIXTURE_BASE, for checking the installer
    only (the stores work only in ROOT). lock_timeout: see fixtures_lock(). Raises
    CalledProcessError."""
    script = os.path.join(os.path.abspath(fixtures_dir), "install.sh")
    env = dict(os.environ)
    if base is not None:
        env["VSTORE_FIXTURE_BASE"] = base
    with fixtures_lock(lock_timeout):
        r = subprocess.run(["bash", script, store, *options], env=env, check=True, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE if quiet else None, text=True)
    return r.stdout
