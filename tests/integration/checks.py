"""A tiny check accumulator: every check is counted and printed; the run fails if any did.

Scenarios: a suite names its parts in a module-level SCENARIOS (a list of names) and guards
each with `if checks.scenario(name):`. run_store.py --only PATTERN runs only the scenarios a
pattern picks (select()), --list prints them. A passing run that never reached a selected
scenario, or an --only run with no check at all, fails."""

import fnmatch
import sys


class UnknownScenario(ValueError):
    pass


def select(names, patterns):
    """The names the patterns pick: each pattern is a name, a glob (* ? [...]) or else a
    substring of names. No pattern: every name. A pattern that picks nothing raises
    UnknownScenario."""
    if not patterns:
        return set(names)
    chosen = set()
    for p in patterns:
        if p in names:
            hits = [p]
        elif any(c in p for c in "*?["):
            hits = fnmatch.filter(names, p)
        else:
            hits = [n for n in names if p in n]
        if not hits:
            raise UnknownScenario(f"no scenario matches {p!r}; the scenarios are: {', '.join(names)}")
        chosen.update(hits)
    return chosen


class Checks:
    def __init__(self, title, scenarios=(), only=()):
        self.title = title
        self.passed = 0
        self.failed = []
        self.scenarios = list(scenarios)
        self.only = list(only)
        self.selected = select(self.scenarios, self.only)
        self.reached = set()

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed.append(name)
            print(f"FAIL {name}" + (f"\n     {detail}" if detail else ""))
        return ok

    def _known(self, name):
        if name not in self.scenarios:
            raise KeyError(f"scenario {name!r} is not in the suite's SCENARIOS {self.scenarios}")

    def scenario(self, name):
        """Whether to run the scenario name (one of the suite's SCENARIOS)."""
        self._known(name)
        self.reached.add(name)
        return name in self.selected

    def any_scenario(self, *names):
        """Whether any of names is to run: for a set-up (a Dovecot, a server) that only those
        scenarios need. Each of them is still asked with scenario() inside."""
        for name in names:
            self._known(name)
        return any(name in self.selected for name in names)

    def finish(self):
        # a suite that stopped early after a failure may not reach every scenario; otherwise
        # a scenario not reached is one SCENARIOS names but run() does not guard
        if not self.failed:
            for name in sorted(self.selected - self.reached, key=self.scenarios.index):
                self.check(f"scenario {name} ran", False, "selected, but the suite never asked checks.scenario() for it")
        if self.only and self.passed + len(self.failed) == 0:
            self.check(f"--only {' '.join(self.only)} ran a check", False)
        for name in self.failed:
            print(f"failed: {name}")
        only = f" (only {', '.join(s for s in self.scenarios if s in self.selected)})" if self.only else ""
        print(f"{self.title}{only}: {self.passed} passed, {len(self.failed)} failed")
        sys.exit(1 if self.failed else 0)
