"""A tiny check accumulator: every check is counted and printed; the run fails if any did."""

import sys


class Checks:
    def __init__(self, title):
        self.title = title
        self.passed = 0
        self.failed = []

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed.append(name)
            print(f"FAIL {name}" + (f"\n     {detail}" if detail else ""))
        return ok

    def finish(self):
        for name in self.failed:
            print(f"failed: {name}")
        print(f"{self.title}: {self.passed} passed, {len(self.failed)} failed")
        sys.exit(1 if self.failed else 0)
