#!/usr/bin/env python3
"""The layers of plugin/ and compat/, checked from the sources' #include lines.

- No include cycle between modules: each room of plugin/store/ (common, files, broker,
  password, access, vpopmail, vmailmgr), plugin/dovecot and compat is a module; a module's
  includes of another's headers form a graph that must have no cycle.
- The privileged code (plugin/store/broker/) includes nothing of the stores, the verdicts,
  the password layer, SQL or Dovecot: only broker/, files/ and common/ headers.
- plugin/store/ includes no header of plugin/dovecot/ or compat/ (no Dovecot header).

The build enforces the rooms' direction too (each room sees only the headers of the rooms
it links); this check also covers plugin/dovecot and compat, which share one include path.
Exit 1 with the offending includes.
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def modules():
    """{module: [source paths]} and {header basename: module}."""
    mods = {}
    store = os.path.join(ROOT, "plugin", "store")
    for room in sorted(os.listdir(store)):
        if os.path.isdir(os.path.join(store, room)):
            mods["store/" + room] = os.path.join(store, room)
    mods["dovecot"] = os.path.join(ROOT, "plugin", "dovecot")
    mods["compat"] = os.path.join(ROOT, "compat")
    files, owner = {}, {}
    for mod, d in mods.items():
        files[mod] = [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith((".h", ".cc", ".c"))]
        for f in files[mod]:
            if f.endswith(".h"):
                name = os.path.basename(f)
                if name in owner:
                    sys.exit(f"two headers named {name}: {owner[name]} and {mod}")
                owner[name] = mod
    return files, owner


def main():
    files, owner = modules()
    edges = {m: {} for m in files}  # module -> {module: [where]}
    problems = []
    for mod, paths in files.items():
        for path in paths:
            rel = os.path.relpath(path, ROOT)
            for inc in INCLUDE.findall(open(path, encoding="utf-8").read()):
                target = owner.get(os.path.basename(inc))
                if target is None:
                    if mod.startswith("store/"):
                        problems.append(f"{rel} includes \"{inc}\", which is not a header of plugin/store")
                    continue
                if target != mod:
                    edges[mod].setdefault(target, []).append(f"{rel}: {inc}")
    broker_may = {"store/broker", "store/files", "store/common"}
    for target, where in edges["store/broker"].items():
        if target not in broker_may:
            problems += [f"the broker includes {target}: {w}" for w in where]
    for mod in files:
        if mod.startswith("store/"):
            for target, where in edges[mod].items():
                if not target.startswith("store/"):
                    problems += [f"the store includes {target}: {w}" for w in where]
    # cycles: a depth-first search over the module graph
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for t in edges[m]:
            if state.get(t) == "open":
                cycle = stack[stack.index(t):] + [t]
                problems.append("include cycle: " + " -> ".join(cycle) + " (" +
                                "; ".join(edges[a][b][0] for a, b in zip(cycle, cycle[1:])) + ")")
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = "done"

    for m in files:
        if m not in state:
            visit(m)
    for p in problems:
        print(p)
    order = {m: sorted(edges[m]) for m in files}
    print("modules and what they include:")
    for m, ts in order.items():
        print(f"  {m} -> {', '.join(ts) if ts else '(nothing)'}")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
