"""One tenant against another, in the one auth process they share (stock service settings,
only `driver =` and `args =`): a store owner's hashes, cdb files, record sizes, settings files
and names must not stall, crash or fool another owner's logins, nor tell which names exist.

Each scenario is a module in tests/integration/tenants/ with a TITLE and run(args, checks,
figures); `figures(name, text)` records a measured figure (a victim's login latency under the
attack, the auth process's memory) that the suite prints together at the end. Run one or a few
with VSTORE_TENANT_SCENARIOS=name[,name] (module names)."""

import importlib
import os
import pkgutil
import sys
import time

from attack_tools import ATTACK, install, remove, root_dir

HERE = os.path.dirname(os.path.abspath(__file__))


def scenarios():
    names = sorted(m.name for m in pkgutil.iter_modules([os.path.join(HERE, "tenants")]) if not m.name.startswith("_"))
    wanted = [n for n in os.environ.get("VSTORE_TENANT_SCENARIOS", "").split(",") if n]
    if wanted:
        unknown = set(wanted) - set(names)
        if unknown:
            sys.exit(f"unknown tenant scenarios {sorted(unknown)}; there are {names}")
        names = [n for n in names if n in wanted]
    return [importlib.import_module(f"tenants.{n}") for n in names]


def run(args, checks):
    measured = []

    def figures(name, text):
        measured.append((name, text))
        print(f"figure: {name}: {text}")

    started = time.monotonic()
    try:
        for module in scenarios():
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
