"""mail_location = maildir:%h for a home with ':' (vmailmgr's users/Bob:Smith): stock Dovecot
2.3 cuts the path at the colon; Dovecot with patches/dovecot-2.3-mail-location-colon-path.patch
(its patched libdovecot-storage.so.0, tests/patch/) opens the whole path. The userdb here is
static so that mail_location, not the vmailmgr userdb's own (escaped) mail field, is what
Dovecot parses."""

import os
import time

from dovecot_harness import Dovecot, driver_config
from mail_clients import imap_login

from fixtures import ROOT  # noqa: E402
BOB_HOME = f"{ROOT}/vmailmgr/exorg/users/Bob:Smith"


def config(vmailmgr_args):
    return "mail_location = maildir:%h\n" + driver_config(
        "vmailmgr", vmailmgr_args, userdb=("static", f"uid=2101 gid=2101 home={BOB_HOME}"))


def deliver_to_bob(subject):
    new = os.path.join(BOB_HOME, "new")
    name = f"{time.time():.6f}.{os.getpid()}.colon-test"
    path = os.path.join(new, name)
    with open(path, "w") as f:
        f.write(f"From: a@example.org\r\nSubject: {subject}\r\n\r\nhello\r\n")
    os.chown(path, 2101, 2101)
    return len(os.listdir(new)) + len(os.listdir(os.path.join(BOB_HOME, "cur")))


def run_maildir_h(work, module_dir, vmailmgr_args, binds=()):
    """Returns (ok, exists, messages on disk, detail, log tail) of an IMAP login + SELECT INBOX
    as bob.smith; binds go to Dovecot (a patched library over the system's)."""
    on_disk = deliver_to_bob("colon path check")
    with Dovecot(work, module_dir, config(vmailmgr_args), binds=binds) as dc:
        ok, detail, exists = imap_login(dc.imap_port, "bob.smith@example.org", "B0b-second")
        dc.wait_for_log("imap(bob.smith@example.org)")
        dc.wait_for_log("Disconnected", timeout=5)
        return ok and exists == on_disk, exists, on_disk, detail, dc.log_text()
