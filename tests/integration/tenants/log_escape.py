"""Bytes a store owner or a client wrote reach the log escaped: a vpopmail home holding ESC, BEL
and CR (a store fault that names the home), and a vmailmgr login name holding them (a refusal
logged at auth_debug). Raw, they would rewrite the terminal of whoever reads the log, or forge a line."""

import os

from attack_tools import (ALICE, VM_ALICE, VM_ARGS, VP_ARGS, VP_DOMAINS, VPOPMAIL, attempt, config, install, log_mark,
                          logged, md5crypt, not_run, scenario_dovecot, set_record, vpasswd_value)

TITLE = "control bytes from a record and a login name reach the log escaped"
HOSTILE = "\x1b]0;owned\x07\x1b[2J\r"
ESCAPED = "\\x1b]0;owned\\x07\\x1b[2J\\x0d"
# A login may not hold CR or LF (the login rule refuses them first), but ESC and BEL pass;
# vmailmgr lowercases it before it names it.
LOGIN_HOSTILE, LOGIN_ESCAPED = HOSTILE[:-1], ESCAPED[:-len("\\x0d")].lower()


def raw_control_bytes_after_prefix(log_bytes, needle):
    """The lines holding needle whose message (after the '): ' that closes Dovecot's own
    prefix) still has a raw control byte, DEL or a byte >= 0x80."""
    bad = []
    for line in log_bytes.split(b"\n"):
        if needle.encode() not in line or b"): " not in line:
            continue
        message = line.split(b"): ", 1)[1]
        if any(c < 0x20 or c >= 0x7f for c in message):
            bad.append(line)
    return bad


def check_logged_escaped(dc, checks, names, login, password, needle, escaped, expect):
    mark, start = log_mark(dc), os.path.getsize(dc.log)
    result, out, _ = attempt(dc, login, password)
    line = logged(dc, mark, needle, escaped)
    checks.check(names[0], result == expect and line is not None, f"{result}\n{dc.tail(8)}")
    raw = open(dc.log, "rb").read()[start:]
    bad = raw_control_bytes_after_prefix(raw, needle)
    checks.check(names[1], not bad, repr(bad[:3]))


def run(args, checks, figures):
    install(args, "vpopmail")
    home = "/srv/vstore-attack/" + HOSTILE
    set_record(f"{VP_DOMAINS}/example.net/vpasswd.cdb", "esc", vpasswd_value(md5crypt("Esc-pw-1"), home), VPOPMAIL)
    names = ["a vpopmail home with ESC/BEL/CR: the store fault is logged with them escaped",
             "a vpopmail home with ESC/BEL/CR: no raw control byte in our log line"]
    with scenario_dovecot(args, checks, "tenant-log-escape-vp", config("vpopmail", VP_ARGS), ALICE) as dc:
        if dc is None:
            not_run(checks, names, "no usable Dovecot")
        else:
            check_logged_escaped(dc, checks, names, "esc@example.net", "Esc-pw-1", "store fault", ESCAPED, "tempfail")

    install(args, "vmailmgr")
    names = ["a vmailmgr login name with ESC/BEL: the refusal is logged with them escaped",
             "a vmailmgr login name with ESC/BEL: no raw control byte in our log line"]
    with scenario_dovecot(args, checks, "tenant-log-escape-vm", config("vmailmgr", VM_ARGS), VM_ALICE) as dc:
        if dc is None:
            return not_run(checks, names, "no usable Dovecot")
        # No such base user: the refusal (auth_debug) names the login as the client sent it.
        check_logged_escaped(dc, checks, names, "e" + LOGIN_HOSTILE + "-x@localhost", "whatever", "no base user",
                             LOGIN_ESCAPED, "fail")
