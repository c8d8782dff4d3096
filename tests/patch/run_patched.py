#!/usr/bin/env python3
"""Stock vs patched Dovecot, same login, same configuration (mail_location = maildir:%h): the
system's Dovecot as it is, then the same binaries with the libdovecot-storage.so.0 built from
the patched source bind-mounted over the system's in their private mount namespace."""

import argparse
import os
import subprocess
import sys

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "integration"))

from checks import Checks  # noqa: E402
import colon_path  # noqa: E402
import dovecot_harness  # noqa: E402
import fixtures  # noqa: E402

ARGS = "qmail_dir=/srv/vstore-fixtures/vm-qmail config_dir=/srv/vstore-fixtures/vm-etc"
STORAGE_LIB = "/usr/lib/dovecot/libdovecot-storage.so.0"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--storage-lib", required=True, help="the patched libdovecot-storage.so.0")
    p.add_argument("--module-dir", required=True)
    p.add_argument("--fixtures", default=os.path.join(TESTS, "fixtures"),
                   help="the fixture stores and their install.sh (default: tests/fixtures)")
    p.add_argument("--work", required=True)
    a = p.parse_args()
    checks = Checks("patched dovecot")
    version = subprocess.run([dovecot_harness.DOVECOT, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[0]
    fixtures.install(a.fixtures, "vmailmgr")
    try:
        for name, binds in (("stock", ()), ("patched", ((a.storage_lib, STORAGE_LIB),))):
            ok, exists, on_disk, detail, tail = colon_path.run_maildir_h(
                f"{a.work}-{name}", a.module_dir, ARGS, binds=binds)
            print(f"{name:7} Dovecot {version}, mail_location = maildir:%h, bob.smith@example.org: "
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
