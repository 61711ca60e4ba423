"""Benchmark `ledgerlens data import`: rows/s against DuckDB's `COPY ... FROM` of the same files.

The warehouse is exported once in each delivery layout (`data export --format data-pipeline`,
`sigma-csv`); then, for each layout and run, (a) the full import is timed end to end: finding
the delivery, the schema checks, the DDL, the loads, row-count and books checks, the derived
step, the content checksum and the atomic swap; and (b) the floor: a fresh DuckDB file with the
same DDL (untimed) filled with one `COPY table FROM 'file'` per table (timed, plus CHECKPOINT).
The ratio import/floor (rows/s) is measured in the same run. Both write to benchmarks/out/.

With --large, the large warehouse (warehouse/large.duckdb, when it exists; not built here) is
exported, imported and compared with the floor table by table, once (benchmarks/
bench_import_large.py), in --scratch (default benchmarks/out/import-large).

Usage: python -m benchmarks.bench_import [--warehouse PATH] [--runs 3] [--large] [--scratch DIR]
    [--floor-until YYYY-MM-DDTHH:MM]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import time
from pathlib import Path

import duckdb

from app.core.resources import ddl_dir
from app.ingest.delivery import find_delivery
from app.ingest.fixture import export_delivery
from app.ingest.load import import_delivery
from benchmarks._common import OUT_DIR, ROOT, header_line, log, p50, table
from benchmarks.bench_import_large import run_large

FORMATS = ("data-pipeline", "sigma-csv")


def floor_seconds(source: Path, target: Path) -> tuple[float, int]:
    """Seconds DuckDB's `COPY ... FROM` takes to load the delivery's files, and the rows."""
    delivery = find_delivery(str(source))
    target.unlink(missing_ok=True)
    with duckdb.connect(str(target)) as conn:
        conn.execute("BEGIN")
        for path in sorted(ddl_dir().glob("*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
        conn.execute("COMMIT")
        options = "FORMAT parquet" if delivery.kind == "data-pipeline" else "FORMAT csv, HEADER"
        started = time.perf_counter()
        for name, files in sorted(delivery.tables.items()):
            for file in files:
                conn.execute(f"COPY \"{name}\" FROM '{file}' ({options})")
        conn.execute("CHECKPOINT")
        seconds = time.perf_counter() - started
        rows = sum(
            int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0])  # type: ignore[index]
            for n in delivery.tables
        )
    target.unlink(missing_ok=True)
    return seconds, rows


def measure(warehouse: Path, fmt: str, runs: int, scratch: Path) -> list[str]:
    """One table row: the layout's median import and floor times and rows/s, and their ratio."""
    source = scratch / fmt
    log(f"exporting {warehouse.name} as {fmt} ...")
    exported = export_delivery(warehouse, source, fmt)  # type: ignore[arg-type]
    ours, floor = [], []
    for run in range(runs):
        log(f"  {warehouse.name} {fmt} run {run + 1}/{runs}")
        summary = import_delivery(source, scratch / "imported.duckdb")
        ours.append(summary.seconds)
        seconds, rows = floor_seconds(source, scratch / "floor.duckdb")
        floor.append(seconds)
        assert rows == summary.total_rows == exported.total_rows
    shutil.rmtree(source)
    (scratch / "imported.duckdb").unlink(missing_ok=True)
    n = exported.total_rows
    ours_rate, floor_rate = n / p50(ours), n / p50(floor)
    return [
        warehouse.name, fmt, f"{n:,}", f"{p50(ours):.2f} s", f"{ours_rate:,.0f}",
        f"{p50(floor):.2f} s", f"{floor_rate:,.0f}", f"{ours_rate / floor_rate:.2f}",
    ]  # fmt: skip


def main() -> None:
    """Print the import vs floor table for each delivery layout (and the large warehouse)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path, default=ROOT / "warehouse" / "demo.duckdb")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--large", action="store_true", help="also large.duckdb (Parquet, 1 run)")
    ap.add_argument("--scratch", type=Path, default=OUT_DIR / "import-large", help="for --large")
    ap.add_argument(
        "--floor-until",
        type=lambda v: dt.datetime.fromisoformat(v).replace(tzinfo=dt.UTC),
        help="--large: start no floor table after this UTC time (YYYY-MM-DDTHH:MM)",
    )
    args = ap.parse_args()
    if not args.warehouse.is_file():
        raise SystemExit(f"No warehouse at {args.warehouse}; build it with `make warehouse`.")
    scratch = OUT_DIR / "import"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    rows = [measure(args.warehouse, fmt, args.runs, scratch) for fmt in FORMATS]
    shutil.rmtree(scratch, ignore_errors=True)
    large = run_large(args.scratch, floor_until=args.floor_until) if args.large else ""
    print(header_line("Import benchmark"))
    print(
        f"\nMedian of {args.runs} runs per layout on {args.warehouse.name}. 'import' is "
        "the whole `data import` (checks, loads, derived step, checksum, "
        "atomic swap); 'floor' is DuckDB's own `COPY table FROM file` of the same files into "
        "the same schema; ratio = import rows/s / floor rows/s (1.0 = as fast as the floor).\n"
    )
    header = ["warehouse", "layout", "rows", "import", "rows/s", "floor", "floor rows/s", "ratio"]
    print(table(header, rows, "llrrrrrr"))
    if large:
        print(
            "\n**Large warehouse** (4M customers), one run of its Data Pipeline export: per table, "
            "the load step of `data import` (`INSERT ... SELECT` from `read_parquet`, row-count "
            "check) vs DuckDB's `COPY table FROM 'TABLE/*.parquet'` + CHECKPOINT into the same "
            "DDL; ratio = import rows/s / floor rows/s. The totals compare the floor with our "
            "load step alone and with the whole import (checks, derived accounts, rollups, "
            "books, content checksum, atomic swap).\n"
        )
        print(large)


if __name__ == "__main__":
    main()
