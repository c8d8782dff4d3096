"""A change that is never seen: the owner of a domain's vpasswd.cdb rewrites a user's password
in place (same size, same inode) and sets the mtime back with utime(). The build before kept
its copy of the file (its stamp was inode, size and mtime): the old password kept working and
the new one was refused. The ctime, which no writer can set back, is now part of the stamp:
the next lookup sees the new password, with the directory watched (inotify) and with
shared_fs=yes (a stat() at every lookup)."""

import os
import time

from attack_tools import (ALICE, VP_ARGS, VP_DOMAINS, VPOPMAIL, attempt, config, install, md5crypt, not_run,
                          scenario_dovecot, set_record, vpasswd_value)
from cdb_write import cdb_bytes, read_records

TITLE = "a same-size rewrite in place with the mtime set back"

USER, DOMAIN = "rita", "example.net"
OLD_PW, NEW_PW = "Stamp-old-1", "Stamp-new-2"


def rewrite_in_place(path, key, value):
    """The same records with key's value replaced (as long as before), written over the file
    in place, then its atime and mtime set back: only the ctime changes."""
    st = os.stat(path)
    records = [(k, value if k == key else v) for k, v in read_records(path)]
    data = cdb_bytes(records)
    assert len(data) == st.st_size, "the rewrite must keep the size"
    with open(path, "r+b") as f:
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)


def scenario(args, checks, shared_fs):
    install(args, "vpopmail")
    name = f"in-place rewrite (shared_fs={shared_fs})"
    names = [f"{name}: the old password worked before", f"{name}: the new password works at the next lookup",
             f"{name}: the old password no longer works"]
    cdb = f"{VP_DOMAINS}/{DOMAIN}/vpasswd.cdb"
    home = f"{VP_DOMAINS}/{DOMAIN}/{USER}"
    # The tools' way first (a new file renamed over the old): the password the owner will hide.
    set_record(cdb, USER, vpasswd_value(md5crypt(OLD_PW), home), VPOPMAIL)
    conf = config("vpopmail", VP_ARGS + f" shared_fs={shared_fs}")
    with scenario_dovecot(args, checks, f"tenant-stamps-{shared_fs}", conf, ALICE) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot")
        login = f"{USER}@{DOMAIN}"
        time.sleep(0.2)  # the version read is past the tick of its change: only the stamp decides
        result, out, _ = attempt(dc, login, OLD_PW)
        checks.check(names[0], result == "ok", f"{result}: {out.strip()}")
        time.sleep(0.2)
        # md5crypt with an 8-character salt: the value keeps its length
        rewrite_in_place(cdb, USER.encode(), vpasswd_value(md5crypt(NEW_PW), home))
        result, out, _ = attempt(dc, login, NEW_PW)
        checks.check(names[1], result == "ok", f"{result}: {out.strip()}")
        result, out, _ = attempt(dc, login, OLD_PW)
        checks.check(names[2], result == "fail", f"{result}: {out.strip()}")


def run(args, checks, figures):
    scenario(args, checks, "no")
    scenario(args, checks, "yes")
