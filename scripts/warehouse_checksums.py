"""Per-table checksums of warehouses, to prove a generator change left the data identical.

Each table gets `count(*)` and `sum(hash(t))`, t being the row as a struct (order-independent,
so insertion order does not matter). Warehouses are either existing files or fresh builds with
the current generator:

    python scripts/warehouse_checksums.py --build demo --build alt_seed_1 --build alt_seed_2 \
        --save benchmarks/warehouse_checksums.json        # record
    python scripts/warehouse_checksums.py --build demo --build alt_seed_1 --build alt_seed_2 \
        --compare benchmarks/warehouse_checksums.json     # verify (exit 1 on any difference)
    python scripts/warehouse_checksums.py --file large=warehouse/large.duckdb

`--build` takes a name from evals/config.yaml (demo, alt_seed_1, ...) or `SCALE:SEED` (e.g.
`small:7`, `20000:3`); builds go to a temporary directory and are deleted afterwards. Checksums
depend on DuckDB's `hash`, so a comparison is only meaningful under the same DuckDB version
(recorded in the file; a different version is reported, not compared).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.semantic.rollups import is_rollup_table  # noqa: E402
from data.build import build_warehouse  # noqa: E402
from evals.warehouses import warehouse_specs  # noqa: E402

Checksums = dict[str, tuple[int, str]]  # table -> (rows, sum of row hashes as text)


def table_checksums(path: Path) -> Checksums:
    """count(*) and sum(hash(row)) of every generated table of the main schema (no rollups)."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
                "AND schema_name = 'main' ORDER BY table_name"
            ).fetchall()
        ]
        out: Checksums = {}
        for name in names:
            if is_rollup_table(name):  # derived from the others by data/rollups.py
                continue
            row = conn.execute(f'SELECT count(*), sum(hash(t)) FROM "{name}" AS t').fetchone()
            assert row is not None
            out[name] = (int(row[0]), str(row[1] or 0))
        return out
    finally:
        conn.close()


def _spec(name: str) -> tuple[str, int, dt.date]:
    """(scale, seed, end) of a pinned warehouse name or a SCALE:SEED pair."""
    specs = warehouse_specs()
    if name in specs:
        s = specs[name]
        return s["scale"], int(s["seed"]), dt.date.fromisoformat(s["end"])
    scale, _, seed = name.partition(":")
    if not seed:
        raise SystemExit(f"unknown warehouse {name!r}: use one of {sorted(specs)} or SCALE:SEED")
    return scale, int(seed), dt.date(2025, 12, 31)


def build_and_checksum(name: str) -> tuple[Checksums, float]:
    """Build a warehouse with the current generator into a temp dir; return its checksums."""
    scale, seed, end = _spec(name)
    with tempfile.TemporaryDirectory(prefix="ll-checksum-") as tmp:
        out = Path(tmp) / f"{name.replace(':', '_')}.duckdb"
        t0 = time.perf_counter()
        build_warehouse(scale, seed, end, out, progress=False)
        seconds = time.perf_counter() - t0
        return table_checksums(out), seconds


def compare(name: str, got: Checksums, want: Checksums) -> list[str]:
    """Human-readable differences between two checksum sets (empty when identical)."""
    diffs = []
    for table in sorted(set(got) | set(want)):
        if got.get(table) != (tuple(want[table]) if table in want else None):
            diffs.append(f"{name}.{table}: got {got.get(table)}, want {want.get(table)}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    """Entry point: compute, print, and optionally save or compare checksums."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", action="append", default=[], help="warehouse name or SCALE:SEED")
    ap.add_argument("--file", action="append", default=[], help="NAME=PATH of an existing file")
    ap.add_argument("--save", help="write the checksums (merged into the file) as JSON")
    ap.add_argument("--compare", help="compare with the checksums saved in this JSON file")
    args = ap.parse_args(argv)
    results: dict[str, Checksums] = {}
    for name in args.build:
        results[name], seconds = build_and_checksum(name)
        print(f"built {name} in {seconds:.1f}s", file=sys.stderr)
    for item in args.file:
        name, _, path = item.partition("=")
        results[name] = table_checksums(Path(path or name))
    print("| warehouse | tables | rows | combined checksum |")
    print("|---|---:|---:|---|")
    for name, sums in results.items():
        rows = sum(r for r, _ in sums.values())
        combined = sum(int(h) for _, h in sums.values()) % 2**64
        print(f"| {name} | {len(sums)} | {rows:,} | {combined:016x} |")
    status = 0
    if args.compare:
        saved = json.loads(Path(args.compare).read_text())
        if saved.get("duckdb") != duckdb.__version__:
            print(f"saved under DuckDB {saved.get('duckdb')}, running {duckdb.__version__}: "
                  "hashes are not comparable", file=sys.stderr)  # fmt: skip
            return 2
        for name, sums in results.items():
            if name not in saved["warehouses"]:
                print(f"{name}: no saved checksums", file=sys.stderr)
                status = 1
                continue
            diffs = compare(name, sums, saved["warehouses"][name])
            print(f"{name}: {'IDENTICAL' if not diffs else 'DIFFERENT'} "
                  f"({len(sums)} tables)", file=sys.stderr)  # fmt: skip
            for d in diffs:
                print("  " + d, file=sys.stderr)
            status = status or (1 if diffs else 0)
    if args.save:
        path = Path(args.save)
        saved = json.loads(path.read_text()) if path.exists() else {"warehouses": {}}
        saved["duckdb"] = duckdb.__version__
        saved["warehouses"].update(
            {n: {t: list(v) for t, v in s.items()} for n, s in results.items()}
        )
        path.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
