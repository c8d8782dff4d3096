"""One tenant against another, in the one auth process they share (stock service settings,
only `driver =` and `args =`): a store owner's hashes, cdb files, record sizes, settings files
and names must not stall, crash or fool another owner's logins, nor tell which names exist.

Each scenario is a module in tests/integration/tenants/ with a TITLE and run(args, checks,
figures); `figures(name, text)` records a measured figure (a victim's login latency under the
attack, the auth process's memory) that the suite prints together at the end. Run one or a few
with run_store.py --only NAME (module names)."""

import importlib
import os
import pkgutil
import time

from attack_tools import ATTACK, install, remove, root_dir

HERE = os.path.dirname(os.path.abspath(__file__))


# the scenarios: the modules in tenants/
SCENARIOS = sorted(m.name for m in pkgutil.iter_modules([os.path.join(HERE, "tenants")]) if not m.name.startswith("_"))


def run(args, checks):
    measured = []

    def figures(name, text):
        measured.append((name, text))
        print(f"figure: {name}: {text}")

    started = time.monotonic()
    try:
        for name in SCENARIOS:
            if not checks.scenario(name):
                continue
            module = importlib.import_module(f"tenants.{name}")
            t = time.monotonic()
            root_dir(ATTACK)
            try:
                module.run(args, checks, figures)
            finally:
                remove(ATTACK)
            print(f"--- tenant scenario {module.TITLE}: {time.monotonic() - t:.1f} s")
    finally:
        remove(ATTACK)
        for store in ("vpopmail", "vmailmgr"):
            install(args, store)
    print("tenant figures:")
    for name, text in measured:
        print(f"  {name}: {text}")
    print(f"tenants: {time.monotonic() - started:.1f} s")
