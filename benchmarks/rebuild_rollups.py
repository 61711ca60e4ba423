"""Rebuild the rollups of benchmark warehouses in place, after their definitions changed.

The 1x/4x/16x warehouses take minutes to hours to generate; their rollups take seconds. This
rewrites the rollups and their fingerprints (`data.rollups.build_rollups`) of each file and its
build record (`<file>.json`): rollup rows and seconds are this rebuild's, and the build's total
seconds are the generator's part plus them, so the scaling benchmark's shares stay honest.

Run: python -m benchmarks.rebuild_rollups WAREHOUSE.duckdb...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

from data.rollups import RollupStats, build_rollups

# DuckDB's default (80% of RAM) got the 4M-customer rebuild killed on a shared machine: spill.
MEMORY_LIMIT = "5GB"


def rebuild(path: Path, memory_limit: str = MEMORY_LIMIT) -> RollupStats:
    """Rebuild one warehouse file's rollups; restamp its build record."""
    conn = duckdb.connect(str(path), config={"memory_limit": memory_limit, "threads": 2})
    try:
        stats = build_rollups(conn)
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    record = path.with_name(path.name + ".json")
    if record.exists():
        meta = json.loads(record.read_text())
        generator = float(meta.get("seconds", 0.0)) - float(meta.get("rollup_seconds", 0.0))
        meta.update(rollup_rows=stats.rows, rollup_seconds=stats.seconds)
        meta["seconds"] = round(generator + stats.seconds, 3)
        record.write_text(json.dumps(meta, indent=1))
    return stats


def main(argv: list[str] | None = None) -> int:
    """Rebuild each file named on the command line; print its rollup rows and seconds."""
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    for path in paths:
        stats = rebuild(path)
        print(f"{path}: {sum(stats.rows.values()):,} rollup rows in {stats.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
