"""The large warehouse's import: `data import` of its Data Pipeline export vs DuckDB's `COPY FROM`.

Steps, one run (`python -m benchmarks.bench_import --large --scratch DIR`):
1. export warehouse/large.duckdb (opened read-only, never written) in the Data Pipeline layout into
   SCRATCH/delivery, and record the source's row count and the sum of every integer (money)
   column per table; after that the source is not read again. A complete export left in SCRATCH
   by an earlier run (marker and recorded sums present) is reused.
2. ours: `import_delivery` into SCRATCH/large-import.duckdb, timed end to end with its phases
   (find, schema, check, load, derive, rollups, books, checksum, swap) and rows/s per table; the
   imported warehouse is compared with the source's recorded counts and sums per table, then
   deleted.
3. the floor: a scratch DuckDB file with the same DDL (untimed), then per table a timed
   `COPY table FROM 'TABLE/*.parquet'` and CHECKPOINT; the table is dropped after it is counted,
   so the file never holds more than one table. The floor runs second, so whatever the page
   cache still holds of the files favours the floor, not us.

Disk: the export is about half the warehouse file; the import about the whole file. Each step
checks that it leaves at least RESERVE_GB free, and is skipped with a message otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb

from app.core.resources import ddl_dir
from app.ingest.delivery import MARKER, find_delivery
from app.ingest.fixture import export_delivery, read_only
from app.ingest.load import ImportSummary, import_delivery
from app.ingest.read import ident
from app.ingest.schema import expected_columns
from app.semantic.rollups import is_rollup_table
from benchmarks._common import LARGE, log, table
from data.build import default_memory_limit

RESERVE_GB = 8.0
GB = 1024**3
Stats = dict[str, list[int]]  # table -> [rows, sum of each integer column in DDL order]


def free_gb(path: Path) -> float:
    """Free space of the file system holding `path`, in GiB."""
    return shutil.disk_usage(path).free / GB


def size_gb(path: Path) -> float:
    """Size of a file or of every file under a folder, in GiB."""
    if path.is_file():
        return path.stat().st_size / GB
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / GB


def table_stats(conn: duckdb.DuckDBPyConnection) -> Stats:
    """Per DDL table: its row count and the sum of each integer column (money in minor units)."""
    out: Stats = {}
    for name, columns in sorted(expected_columns().items()):
        sums = [f"sum({ident(c)})::HUGEINT" for c, t in columns if t in ("BIGINT", "INTEGER")]
        row = conn.execute(f"SELECT {', '.join(['count(*)', *sums])} FROM {ident(name)}").fetchone()
        out[name] = [int(v or 0) for v in (row or ())]
    return out


def export_large(warehouse: Path, scratch: Path) -> tuple[Path, Stats, str]:
    """Export the large warehouse once (or reuse a complete export); its source stats; a note."""
    delivery, stats_file = scratch / "delivery", scratch / "source-stats.json"
    if stats_file.is_file() and list(delivery.glob(f"*/livemode/{MARKER}")):
        log(f"reusing the export in {delivery}")
        said = scratch / "export-note.txt"
        told = said.read_text().strip() if said.is_file() else "time not recorded"
        return delivery, json.loads(stats_file.read_text()), f"{told} (an earlier run's)"
    shutil.rmtree(delivery, ignore_errors=True)
    need = size_gb(warehouse) * 0.6 + RESERVE_GB
    if free_gb(scratch) < need:
        raise RuntimeError(f"{free_gb(scratch):.1f} GiB free, {need:.1f} GiB needed to export")
    log(f"exporting {warehouse} (read-only) to {delivery} ...")
    t0 = time.perf_counter()
    export_delivery(warehouse, delivery, "data-pipeline")
    exported = time.perf_counter() - t0
    with read_only(warehouse) as conn:
        stats = table_stats(conn)
    total = time.perf_counter() - t0
    log(f"finished reading {warehouse}: export {exported:.0f} s, with the sums {total:.0f} s")
    stats_file.write_text(json.dumps(stats))
    note = f"{exported:.0f} s, {size_gb(delivery):.1f} GiB of Parquet (zstd)"
    (scratch / "export-note.txt").write_text(note)
    return delivery, stats, note


def floor_load(
    delivery: Path, target: Path, until: dt.datetime | None = None
) -> dict[str, tuple[int, float]]:
    """Rows and seconds of DuckDB's own `COPY table FROM 'files'`, largest table first.

    With `until`, no table is started after that time (UTC): the tables measured are returned.
    """
    found = find_delivery(str(delivery))
    target.unlink(missing_ok=True)
    out: dict[str, tuple[int, float]] = {}
    with duckdb.connect(str(target)) as conn:
        conn.execute(f"SET memory_limit = '{default_memory_limit()}'")  # as the import does
        conn.execute("BEGIN")
        for path in sorted(ddl_dir().glob("*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
        conn.execute("COMMIT")
        by_size = sorted(found.tables, key=lambda t: -size_gb(Path(found.tables[t][0]).parent))
        for name in by_size:
            if until is not None and dt.datetime.now(dt.UTC) > until:
                log(f"  floor stopped at {until:%H:%M} UTC (--floor-until) before {name}")
                break
            folder = Path(found.tables[name][0]).parent
            if free_gb(target.parent) < RESERVE_GB + 2 * size_gb(folder):
                raise RuntimeError(f"not enough disk left to load {name} for the floor")
            t0 = time.perf_counter()
            conn.execute(f"COPY {ident(name)} FROM '{folder}/*.parquet' (FORMAT parquet)")
            conn.execute("CHECKPOINT")
            seconds = time.perf_counter() - t0
            counted = conn.execute(f"SELECT count(*) FROM {ident(name)}").fetchone()
            out[name] = (int(counted[0]) if counted else 0, seconds)
            log(f"  floor {name}: {out[name][0]:,} rows in {seconds:.1f} s")
            conn.execute(f"DROP TABLE {ident(name)}")
            conn.execute("CHECKPOINT")
    target.unlink(missing_ok=True)
    return out


def verify(imported: Path, source: Stats) -> list[str]:
    """Tables whose row count or integer sums differ between the import and the source."""
    with read_only(imported) as conn:
        got = table_stats(conn)
    return [t for t in sorted(source) if got.get(t) != source[t]]


def rollup_rows(warehouse: Path) -> int:
    """Rows of every rollup table in a warehouse."""
    total = 0
    with read_only(warehouse) as conn:
        for (name,) in conn.execute("SHOW TABLES").fetchall():
            if is_rollup_table(str(name)):
                row = conn.execute(f"SELECT count(*) FROM {ident(str(name))}").fetchone()
                total += int(row[0]) if row else 0
    return total


def _log_table(name: str, rows: int, seconds: float) -> None:
    log(f"  import {name}: {rows:,} rows in {seconds:.1f} s")


def _ratio(floor_s: float, ours_s: float) -> str:
    """Our rows/s over the floor's for the same rows: floor seconds / our seconds."""
    return f"{floor_s / ours_s:.2f}" if ours_s > 0 and floor_s > 0 else "-"


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


def report(ours: ImportSummary, floor: dict[str, tuple[int, float]], notes: dict[str, Any]) -> str:
    """The markdown of the large run: per-table rows/s, totals, phases, and the notes."""
    rows = []
    for name, (n, fs) in sorted(floor.items(), key=lambda kv: -kv[1][0]):
        load = ours.tables[name]
        rows.append([name, f"{n:,}", f"{load.seconds:.1f}", _rate(n, load.seconds),
                     f"{fs:.1f}", _rate(n, fs), _ratio(fs, load.seconds)])  # fmt: skip
    n = sum(r for r, _ in floor.values())
    floor_s = sum(s for _, s in floor.values())
    complete = set(floor) == set(ours.tables)
    load_s = sum(ours.tables[t].seconds for t in floor)
    load_s = ours.phases.get("load", load_s) if complete else load_s
    what = "**all, load step**" if complete else f"**the {len(floor)} tables floored, load step**"
    rows.append([what, f"{n:,}", f"{load_s:.1f}", _rate(n, load_s),
                 f"{floor_s:.1f}", _rate(n, floor_s), _ratio(floor_s, load_s)])  # fmt: skip
    if complete:
        rows.append(["**all, whole import**", f"{n:,}", f"{ours.seconds:.1f}",
                     _rate(n, ours.seconds), f"{floor_s:.1f}", _rate(n, floor_s),
                     _ratio(floor_s, ours.seconds)])  # fmt: skip
    else:
        notes = notes | {
            "floor": f"stopped by --floor-until after {len(floor)} of "
            f"{len(ours.tables)} tables (the largest first): not a full-floor run"
        }
    header = ["table", "rows", "import s", "rows/s", "floor s", "floor rows/s", "ratio"]
    phases = " · ".join(f"{k} {v:.1f} s" for k, v in ours.phases.items())
    total = f"{ours.total_rows:,} rows, {ours.rows_per_second:,.0f} rows/s"
    lines = [
        table(header, rows, "lrrrrrr"),
        "",
        f"Phases of the whole import ({ours.seconds:.1f} s, {total}): {phases}.",
        "",
        *(f"- {k}: {v}" for k, v in notes.items()),
    ]
    return "\n".join(lines)


def run_large(
    scratch: Path, warehouse: Path = LARGE, floor_until: dt.datetime | None = None
) -> str:
    """Export, import, verify and floor the large warehouse; the markdown section (or why not)."""
    if not warehouse.is_file():
        return f"Large warehouse: not built on this machine ({warehouse} missing), so not measured."
    scratch.mkdir(parents=True, exist_ok=True)
    notes: dict[str, Any] = {"load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    delivery, source, notes["export"] = export_large(warehouse, scratch)
    target = scratch / "large-import.duckdb"
    need = size_gb(warehouse) + RESERVE_GB
    if free_gb(scratch) < need:
        raise RuntimeError(f"{free_gb(scratch):.1f} GiB free, {need:.1f} GiB needed to import")
    log(f"import into {target} ...")
    ours = import_delivery(delivery, target, on_table=_log_table)
    log(f"  import phases: {ours.phases}")
    notes["imported file"] = f"{size_gb(target):.1f} GiB (source {size_gb(warehouse):.1f} GiB)"
    bad = verify(target, source)
    notes["equal to the source (rows and integer sums, every table)"] = (
        "yes" if not bad else "NO: " + ", ".join(bad)
    )
    notes["rollup rows built by the import"] = f"{rollup_rows(target):,}"
    target.unlink(missing_ok=True)
    log("floor: COPY FROM, table by table ...")
    floor = floor_load(delivery, scratch / "floor.duckdb", floor_until)
    shutil.rmtree(delivery, ignore_errors=True)
    (scratch / "source-stats.json").unlink(missing_ok=True)
    (scratch / "export-note.txt").unlink(missing_ok=True)
    notes["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if bad:
        raise RuntimeError(f"the import differs from the source in {', '.join(bad)}")
    return report(ours, floor, notes)
