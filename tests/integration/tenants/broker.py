"""The store broker grants more than the store needs. Acting as a compromised auth process
(the test takes the auth process's end of the broker's socket with pidfd_getfd() and sends
the broker requests of its own), the build before could create lastauth in a user's
Maildir/cur (Dovecot then lists it as a message), open any file of a vmailmgr base user's
.vmailmgr/ and any *.cdb in its home, and open the files of a vpopmail domain removed from
users/cdb until a refusal made the broker read the list again. Now each is refused; and the
normal paths still work end to end: a real login writes lastauth in the user's directory, a
base user's password-file is honoured, a domain removed from users/cdb (rebuilt as qmail-newu
does) stops logging in at the next lookup."""

import ctypes
import os
import pwd
import socket
import struct
import time

from attack_tools import (ROOT, VM_ALICE, VM_ARGS, VP_ARGS, VP_DOMAINS, VPOPMAIL, ALICE, RITA, attempt, config,
                          install, not_run, remove, scenario_dovecot, write_file)
from cdb_write import cdb_bytes, read_records

TITLE = "the store broker grants only the store's own files (as a compromised auth process)"

# fs_broker.cc's wire format: Request {seq, op, uid, gid, mask, path_len, data_len}, then the
# path and the data; Reply {seq, err, struct stat, fs_type, wd, msg_len}, then the message.
OP_LSTAT, OP_OPEN, OP_LASTAUTH = 3, 4, 7
REPLY = struct.Struct("<Ii144sQiI")
EPERM = 1
SYS_PIDFD_GETFD = 438


def parent_of(pid):
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])


def broker_socket(dc):
    """The auth process's end of the broker's socket, duplicated into this process: the
    broker (comm vstore-broker) whose parent is the auth process of this scenario's Dovecot
    (another Dovecot may run on the machine)."""
    master = int(open(dc.socket("master.pid")).read().split()[0])
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if open(f"/proc/{pid}/comm").read().strip() != "vstore-broker":
                continue
            ppid = parent_of(pid)
            if open(f"/proc/{ppid}/comm").read().strip() != "auth" or parent_of(ppid) != master:
                continue
        except (OSError, ValueError, IndexError):
            continue
        libc = ctypes.CDLL(None, use_errno=True)
        pidfd = os.pidfd_open(ppid)
        try:
            for fd in sorted(int(f) for f in os.listdir(f"/proc/{ppid}/fd")):
                if not os.readlink(f"/proc/{ppid}/fd/{fd}").startswith("socket:"):
                    continue
                mine = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
                if mine < 0:
                    continue
                s = socket.socket(fileno=mine)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_SEQPACKET:
                    return s
                s.close()
        finally:
            os.close(pidfd)
    return None


def ask(sock, op, owner, path, data=b""):
    """(errno, message) of one request, as the auth process would send it."""
    path = path.encode()
    seq = 0x7f000000 + int(time.monotonic_ns() % 0xffff)
    head = struct.pack("<7I", seq, op, owner[0], owner[1], 0, len(path), len(data))
    sock.sendmsg([head + path + data])
    while True:
        msg, anc, _, _ = sock.recvmsg(REPLY.size + 4096, socket.CMSG_SPACE(4))
        for level, kind, fds in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                for i in range(0, len(fds) - len(fds) % 4, 4):
                    os.close(struct.unpack_from("i", fds, i)[0])
        got_seq, err, _, _, _, msg_len = REPLY.unpack_from(msg)
        if got_seq == seq:
            return err, msg[REPLY.size:REPLY.size + msg_len].decode(errors="replace")


def answer(result):
    err, msg = result
    return f"errno {err} ({os.strerror(err) if err else 'allowed'}): {msg}"


def newu_without(path, domain):
    """users/cdb rebuilt as qmail-newu does (a new file renamed over the old) without the
    domain's "!domain-" entry."""
    key = f"!{domain}-".encode()
    records = [(k, v) for k, v in read_records(path) if k != key]
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(cdb_bytes(records))
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def vpopmail_part(args, checks):
    install(args, "vpopmail")
    names = ["broker/vpopmail: a real IMAP login writes lastauth in the user's directory",
             "broker/vpopmail: as the auth process, lastauth cannot be created in Maildir/cur",
             "broker/vpopmail: as the auth process, lastauth cannot be created in Maildir",
             "broker/vpopmail: a domain removed from users/cdb stops logging in at the next lookup",
             "broker/vpopmail: as the auth process, a removed domain's vpasswd.cdb is refused at once"]
    alice_dir = f"{VP_DOMAINS}/example.com/alice"
    remove(f"{alice_dir}/lastauth")
    conf = config("vpopmail", VP_ARGS + " lastauth_interval=0")
    with scenario_dovecot(args, checks, "tenant-broker-vpopmail", conf, ALICE) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot")
        result, out, _ = attempt(dc, *ALICE, service="imap")
        deadline = time.monotonic() + 3
        while not os.path.exists(f"{alice_dir}/lastauth") and time.monotonic() < deadline:
            time.sleep(0.05)
        written = os.path.exists(f"{alice_dir}/lastauth")
        checks.check(names[0], result == "ok" and written and os.stat(f"{alice_dir}/lastauth").st_uid == VPOPMAIL[0],
                     f"{result}, lastauth written: {written}")
        sock = broker_socket(dc)
        if sock is None:
            return not_run(checks, names[1:], "no broker socket found in the auth process")
        with sock:
            for name, d in ((names[1], f"{alice_dir}/Maildir/cur"), (names[2], f"{alice_dir}/Maildir")):
                remove(f"{d}/lastauth")
                r = ask(sock, OP_LASTAUTH, VPOPMAIL, d, b"127.0.0.9")
                created = os.path.exists(f"{d}/lastauth")
                checks.check(name, r[0] == EPERM and not created, f"{answer(r)}; created: {created}")
                remove(f"{d}/lastauth")
            cdb = f"{ROOT}/qmail/users/cdb"
            rita_cdb = f"{VP_DOMAINS}/example.net/vpasswd.cdb"
            before = ask(sock, OP_OPEN, VPOPMAIL, rita_cdb)
            result_before, _, _ = attempt(dc, *RITA)
            newu_without(cdb, "example.net")
            r = ask(sock, OP_OPEN, VPOPMAIL, rita_cdb)
            checks.check(names[4], before[0] == 0 and r[0] == EPERM,
                         f"before the change: {answer(before)}; after: {answer(r)}")
        result, out, _ = attempt(dc, *RITA)
        checks.check(names[3], result_before == "ok" and result == "fail", f"before: {result_before}; after: {result}")


def vmailmgr_part(args, checks):
    install(args, "vmailmgr")
    names = ["broker/vmailmgr: a login with ~/.vmailmgr/password-file set works",
             "broker/vmailmgr: as the auth process, a file of .vmailmgr/ the driver does not read is refused",
             "broker/vmailmgr: as the auth process, a .cdb that password-file does not name is refused",
             "broker/vmailmgr: as the auth process, the .cdb password-file names is served"]
    base = pwd.getpwnam("exorg")
    owner = (base.pw_uid, base.pw_gid)
    home = base.pw_dir
    if not os.path.isdir(f"{home}/.vmailmgr"):
        os.mkdir(f"{home}/.vmailmgr", 0o700)
        os.chown(f"{home}/.vmailmgr", *owner)
    write_file(f"{home}/.vmailmgr/secret", b"a file of the base user's\n", owner, 0o600)
    write_file(f"{home}/other.cdb", open(f"{home}/passwd.cdb", "rb").read(), owner, 0o600)
    conf = config("vmailmgr", VM_ARGS)
    with scenario_dovecot(args, checks, "tenant-broker-vmailmgr", conf, VM_ALICE) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot")
        sock = broker_socket(dc)
        if sock is None:
            return not_run(checks, names[1:], "no broker socket found in the auth process")
        with sock:
            r = ask(sock, OP_OPEN, owner, f"{home}/.vmailmgr/secret")
            checks.check(names[1], r[0] == EPERM, answer(r))
            r = ask(sock, OP_OPEN, owner, f"{home}/other.cdb")
            checks.check(names[2], r[0] == EPERM, answer(r))
            # the owner moves its store: password-file names other.cdb
            write_file(f"{home}/.vmailmgr/password-file", b"other\n", owner, 0o600)
            time.sleep(0.1)
            r = ask(sock, OP_OPEN, owner, f"{home}/other.cdb")
            checks.check(names[3], r[0] == 0, answer(r))
        os.rename(f"{home}/passwd.cdb", f"{home}/passwd.cdb.moved")  # only other.cdb can answer
        try:
            result, out, _ = attempt(dc, *VM_ALICE)
            checks.check(names[0], result == "ok", f"{result}: {out.strip()}\n{dc.tail(5)}")
        finally:
            os.rename(f"{home}/passwd.cdb.moved", f"{home}/passwd.cdb")
            remove(f"{home}/.vmailmgr/password-file")
            remove(f"{home}/.vmailmgr/secret")
            remove(f"{home}/other.cdb")


def run(args, checks, figures):
    vpopmail_part(args, checks)
    vmailmgr_part(args, checks)
