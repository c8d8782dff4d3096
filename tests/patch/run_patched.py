#!/usr/bin/env python3
"""Stock vs patched Dovecot, same login, same configuration (mail_location = maildir:%h)."""

import argparse
import os
import sys

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "integration"))

from checks import Checks  # noqa: E402
import colon_path  # noqa: E402
import fixtures  # noqa: E402

ARGS = "qmail_dir=/srv/vstore-fixtures/vm-qmail config_dir=/srv/vstore-fixtures/vm-etc"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--prefix", required=True)
    p.add_argument("--module-dir", required=True)
    p.add_argument("--fixtures", default=os.path.join(TESTS, "fixtures"),
                   help="the fixture stores and their install.sh (default: tests/fixtures)")
    p.add_argument("--work", required=True)
    a = p.parse_args()
    checks = Checks("patched dovecot")
    fixtures.install(a.fixtures, "vmailmgr")
    try:
        for name, prefix in (("stock", None), ("patched", os.path.abspath(a.prefix))):
            ok, exists, on_disk, detail, tail = colon_path.run_maildir_h(
                f"{a.work}-{name}", a.module_dir, ARGS, prefix=prefix)
            print(f"{name:7} Dovecot, mail_location = maildir:%h, bob.smith@example.org: "
                  f"login+SELECT {'ok' if ok else 'failed'}, EXISTS={exists} (messages on disk {on_disk})"
                  + ("" if ok else f": {detail}"))
            if name == "stock":
                checks.check("stock Dovecot cuts the path", not ok and "Unknown setting: Smith" in tail, tail[-3000:])
            else:
                checks.check("patched Dovecot opens users/Bob:Smith and sees its messages", ok, tail[-3000:])
    finally:
        fixtures.install(a.fixtures, "vmailmgr")
    checks.finish()


if __name__ == "__main__":
    main()
