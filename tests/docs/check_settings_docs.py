#!/usr/bin/env python3
"""docs/configuration.md's settings tables say what plugin/store/common/settings_list.h declares:
every setting, under its 2.3 arg and 2.4 name, with its default, and nothing else.
Exit 1 with one line per difference."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import settings_table  # noqa: E402

HEADER = "| arg (2.3) | setting (2.4) | default | meaning |"


def doc_tables(path):
    """{driver: [(arg, name24, default)]} from the tables under '## vpopmail' / '## vmailmgr'."""
    tables, driver, rows = {}, None, None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r"^## (vpopmail|vmailmgr)\b", line)
        if m:
            driver = m.group(1)
        if line.strip() == HEADER:
            if driver is None or driver in tables:
                raise SystemExit(f"{path}: a settings table outside a driver section, or two in one")
            rows = tables[driver] = []
            continue
        if rows is not None:
            if not line.startswith("|"):
                rows = None
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if set(cells[0]) <= set("-: "):
                continue
            unquote = lambda c: c[1:-1] if c.startswith("`") and c.endswith("`") else c  # noqa: E731
            rows.append((unquote(cells[0]), unquote(cells[1]), unquote(cells[2])))
    return tables


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "docs", "configuration.md")
    tables = doc_tables(path)
    problems = []
    for driver in ("vpopmail", "vmailmgr"):
        documented = {r[0]: r for r in tables.get(driver, [])}
        if driver not in tables:
            problems.append(f"{driver}: no settings table (header {HEADER!r})")
            continue
        declared = settings_table.rows(driver)
        for arg, name24, default, _ in declared:
            doc = documented.pop(arg, None)
            if doc is None:
                problems.append(f"{driver}: {arg} is not documented")
                continue
            if name24 is not None and doc[1] != name24:
                problems.append(f"{driver}: {arg} is the 2.4 setting {name24}, not {doc[1]!r}")
            if name24 is None and doc[1].startswith(driver + "_"):
                problems.append(f"{driver}: {arg} has no 2.4 setting of the driver, the doc says {doc[1]!r}")
            if default and doc[2] != default:
                problems.append(f"{driver}: {arg} defaults to {default!r}, the doc says {doc[2]!r}")
        for arg in documented:
            problems.append(f"{driver}: {arg} is documented but not a setting")
    for p in problems:
        print(p)
    print(f"settings documentation: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
