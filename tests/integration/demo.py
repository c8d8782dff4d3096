#!/usr/bin/env python3
"""Starts a demo Dovecot with the vpopmail demo store and shows logins (see scripts/demo)."""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from dovecot_harness import Dovecot  # noqa: E402
from mail_clients import imap_login  # noqa: E402
import vpopmail_suite  # noqa: E402
import fixtures  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--module-dir", required=True)
    p.add_argument("--fixtures", default=os.path.join(os.path.dirname(HERE), "fixtures"),
                   help="the fixture stores and their install.sh (default: tests/fixtures)")
    p.add_argument("--work", default="/tmp/vstore-demo")
    p.add_argument("--once", action="store_true", help="stop after showing the logins")
    args = p.parse_args()
    fixtures.install(args.fixtures, "vpopmail", quiet=False)
    with Dovecot(args.work, args.module_dir, vpopmail_suite.db_config()) as dc:
        print(f"\nDemo Dovecot running: IMAP 127.0.0.1:{dc.imap_port}, POP3 127.0.0.1:{dc.pop3_port}")
        print(f"config {dc.conf}, log {dc.log}\n")
        for cmd in (["auth", "test", "-x", "service=imap", "alice@example.com", "Alice-pw1"],
                    ["auth", "test", "-x", "service=pop3", "bob@example.com", "Bob-pw2"],
                    ["user", "grace@example.com"]):
            print("$ doveadm -c " + dc.conf + " " + " ".join(cmd))
            r = dc.doveadm(*cmd)
            print((r.stdout + r.stderr).rstrip() + "\n")
        ok, detail, exists = imap_login(dc.imap_port, "alice@example.com", "Alice-pw1")
        print(f"IMAP LOGIN alice@example.com / SELECT INBOX: {'OK, ' + str(exists) + ' messages' if ok else detail}")
        if args.once:
            return
        print(f"\nTry: doveadm -c {dc.conf} auth test -x service=imap rita@example.net Rita-net-1")
        print("Ctrl-C stops the demo.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
