#!/usr/bin/env python3
"""Integration tests of one store's drivers against a real Dovecot (run as root)."""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from checks import Checks, UnknownScenario  # noqa: E402
import fixtures  # noqa: E402

DEFAULT_FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")  # tests/fixtures


def main():
    p = argparse.ArgumentParser()
    # a suite is a file NAME_suite.py here; tests/CMakeLists.txt registers each one as CTest's
    # integration_NAME from the same file names
    suites = sorted(f[:-len("_suite.py")] for f in os.listdir(HERE) if f.endswith("_suite.py"))
    p.add_argument("--store", required=True, choices=suites)
    p.add_argument("--module-dir")
    p.add_argument("--fixtures", default=DEFAULT_FIXTURES,
                   help="the fixture stores and their install.sh (default: tests/fixtures)")
    p.add_argument("--source")
    p.add_argument("--work")
    p.add_argument("--only", action="append", default=[], metavar="SCENARIO",
                   help="run only this scenario of the suite: a name, a glob or a part of names "
                        "(repeat it, or separate with commas, for more; default: $VSTORE_SCENARIOS)")
    p.add_argument("--list", action="store_true", help="print the suite's scenarios and exit")
    args = p.parse_args()
    import importlib
    suite = importlib.import_module(f"{args.store}_suite")
    if args.list:
        print("\n".join(suite.SCENARIOS))
        return
    missing = [o for o in ("module_dir", "source", "work") if getattr(args, o) is None]
    if missing:
        p.error("the following arguments are required: " + ", ".join("--" + o.replace("_", "-") for o in missing))
    only = [o for arg in (args.only or [os.environ.get("VSTORE_SCENARIOS", "")]) for o in arg.split(",") if o]
    try:
        checks = Checks(f"integration {args.store}", suite.SCENARIOS, only)
    except UnknownScenario as e:
        print(f"{args.store}: {e}")
        sys.exit(1)
    if os.geteuid() != 0:
        print("integration tests need root (fixture users, doveadm, a private mount namespace)")
        sys.exit(1)
    args.fixtures = os.path.abspath(args.fixtures)
    if not os.path.isfile(os.path.join(args.fixtures, "install.sh")):
        print(f"fixtures not found at {args.fixtures} (no install.sh there; they live in tests/fixtures)")
        sys.exit(1)
    # The suite writes the fixture stores under /srv/vstore-fixtures, which every test run on
    # this machine shares: one suite at a time.
    with fixtures.fixtures_lock():
        suite.run(args, checks)
    checks.finish()

if __name__ == "__main__":
    main()
