#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, taken from the fixture stores (written by the real tools).
   make_seeds.py FIXTURES_DIR OUT_DIR      (FIXTURES_DIR: tests/fixtures)"""

import glob
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from cdb_write import read_records as cdb_records  # noqa: E402


def save(out, target, blob):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(blob).hexdigest()), "wb") as f:
        f.write(blob)


def main():
    fixtures, out = sys.argv[1], sys.argv[2]
    vm, vp = os.path.join(fixtures, "vmailmgr"), os.path.join(fixtures, "vpopmail")
    cdbs = glob.glob(f"{vm}/tree/**/passwd.cdb", recursive=True) + \
        glob.glob(f"{vp}/tree/**/vpasswd.cdb", recursive=True) + [f"{vp}/tree/qmail/users/cdb"]
    for path in cdbs[:40]:
        save(out, "fuzz_cdb_file", open(path, "rb").read())
    for path in glob.glob(f"{vm}/tree/**/passwd.cdb", recursive=True):
        for _k, v in cdb_records(path):
            save(out, "fuzz_vmailmgr_record", v)
    for path in glob.glob(f"{vp}/tree/**/vpasswd.cdb", recursive=True)[:12] + [f"{vp}/tree/qmail/users/cdb"]:
        for _k, v in cdb_records(path)[:60]:
            save(out, "fuzz_vpopmail_records", v)
    for path in glob.glob(f"{vp}/tree/**/vpasswd", recursive=True)[:8]:
        text = open(path, "rb").read()
        save(out, "fuzz_vpopmail_records", text)
        for line in text.splitlines():
            parts = line.split(b":")
            if len(parts) > 6:
                save(out, "fuzz_quota_limits", parts[6])
    for path in glob.glob(f"{vp}/tree/**/.qmailadmin-limits", recursive=True) + [f"{vp}/tree/vpopmail/etc/vlimits.default"]:
        save(out, "fuzz_quota_limits", open(path, "rb").read())
    for n in (b"-", b"  100", b"\t5", b"-1234", b""):
        save(out, "fuzz_quota_limits", n)
    for store in (vm, vp):
        for line in open(os.path.join(store, "verdicts.jsonl"), encoding="utf-8"):
            save(out, "fuzz_login", json.loads(line)["login"].encode())
    for args in (b"vpopmail_dir=/srv/vstore-fixtures/vpopmail qmail_dir=/srv/vstore-fixtures/qmail webmail_ips=127.0.0.1",
                 b"qmail_dir=/srv/vstore-fixtures/vm-qmail config_dir=/srv/vstore-fixtures/vm-etc separators=@:",
                 b"clear_password=prefer blocking=no default_domain=example.com",
                 b"refuse_disabled_mailbox=yes system_users=no"):
        save(out, "fuzz_settings", args)
    for name in ("virtualdomains", "locals"):
        save(out, "fuzz_settings", open(f"{vm}/tree/vm-qmail/control/{name}", "rb").read())


if __name__ == "__main__":
    main()
