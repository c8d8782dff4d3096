"""Replaying a store's verdicts.jsonl (the real tool's answer for every test login, formats.md
Part IV) through a running Dovecot: one check per row, a table and the count agreed."""

import json
import os


def load(fixtures_dir, store):
    with open(os.path.join(fixtures_dir, store, "verdicts.jsonl")) as f:
        return [json.loads(line) for line in f]


def userdb_problems(dc, login, service, expected):
    """What `doveadm user` says of login that differs from expected ({field: value})."""
    rc, fields, out = dc.user(login, service)
    if rc != 0:
        return [f"doveadm user exit {rc}: {out.strip()}"]
    return [f"{k} {fields.get(k)!r} != {v!r}" for k, v in expected.items() if fields.get(k) != v]


def replay(checks, rows, run_row, label, name, columns):
    """run_row(n, row) -> (same, detail, cells): whether the drivers agree with the row, why
    not, and the row's table cells between its number and the agree column. Prints the table
    (columns: the headings of those cells) and "<label><name> verdicts: agreed A/N"."""
    agreed = 0
    table = []
    for n, row in enumerate(rows, 1):
        same, detail, cells = run_row(n, row)
        agreed += same
        table.append((n, *cells, "yes" if same else "NO"))
        checks.check(f"{label}verdict row {n} ({row['why']})", same, detail)
    print("\n" + " | ".join(("row", *columns, "agree")))
    for t in table:
        print(" | ".join(str(x) for x in t))
    print(f"\n{label}{name} verdicts: agreed {agreed}/{len(rows)}\n")
