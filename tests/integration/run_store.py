#!/usr/bin/env python3
"""Integration tests of one store's drivers against a real Dovecot (run as root)."""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from checks import Checks  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--store", required=True, choices=["vpopmail", "vmailmgr", "faults", "hostile", "rewrite", "toolchain", "tools", "package", "attacks", "sharedfs"])
    p.add_argument("--module-dir", required=True)
    p.add_argument("--fixtures", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    if os.geteuid() != 0:
        print("integration tests need root (fixture users, doveadm, a private mount namespace)")
        sys.exit(1)
    args.fixtures = os.path.abspath(args.fixtures)
    if not os.path.isdir(args.fixtures):
        print(f"fixtures not found at {args.fixtures}")
        sys.exit(1)
    checks = Checks(f"integration {args.store}")
    import importlib
    suite = importlib.import_module(f"{args.store}_suite")
    suite.run(args, checks)
    checks.finish()


if __name__ == "__main__":
    main()
