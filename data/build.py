"""Build a Ledgerlens warehouse file: schema from data/ddl, contents from data.generate, rollups.

The rollups (data/rollups.py) are built in the same file before it is renamed into place, so a
warehouse and its rollups appear together.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
from pydantic import BaseModel, Field

from app.core.resources import ddl_dir
from app.semantic.rollups import is_rollup_table
from data import _gen_config as cfg
from data.generate import generate, make_config
from data.rollups import build_rollups

DEMO_SEED = 7
DEMO_END = dt.date(2025, 12, 31)


class BuildStats(BaseModel):
    """What a build produced: rows per table, duration and throughput."""

    path: str
    scale: str
    customers: int
    seed: int
    end: dt.date
    months: int
    rows: dict[str, int] = Field(default_factory=dict)
    total_rows: int = 0
    seconds: float = 0.0
    rows_per_second: float = 0.0
    rollup_rows: dict[str, int] = Field(default_factory=dict)  # rows per rollup table
    rollup_seconds: float = 0.0  # of `seconds`, the time build_rollups took


def create_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Run every data/ddl/*.sql file in name order."""
    for path in sorted(ddl_dir().glob("*.sql")):
        conn.execute(path.read_text(encoding="utf-8"))


def table_row_counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every base table in the main schema but the rollups, by table name."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main' "
            "ORDER BY table_name"
        ).fetchall()
    ]
    return {
        n: int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0])
        for n in names
        if not is_rollup_table(n)
    }


@contextlib.contextmanager
def _progress(enabled: bool, title: str) -> Iterator:
    """Yield a step callback that advances a rich progress bar (or does nothing)."""
    if not enabled:
        yield lambda label, share: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task(title, total=1.0)

        def on_step(label: str, share: float) -> None:
            bar.update(task, advance=share, description=f"{title}: {label}")

        yield on_step


def default_memory_limit() -> str:
    """DuckDB memory limit for builds: half the machine's RAM, clamped to 2-10 GiB."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return "8GiB"
    return f"{max(2, min(10, total // 2**31))}GiB"


def build_warehouse(
    scale: str | int,
    seed: int,
    end: dt.date,
    out: Path | str,
    progress: bool = True,
    *,
    months: int = cfg.DEFAULT_MONTHS,
    memory_limit: str | None = None,
) -> BuildStats:
    """Generate a warehouse into a temp file next to `out`, then atomically rename it."""
    config = make_config(scale, seed, end, months)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.building-{os.getpid()}")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    t0 = time.perf_counter()
    try:
        conn = duckdb.connect(str(tmp))
        try:
            conn.execute(f"SET temp_directory = '{tmp.parent / (tmp.name + '.spill')}'")
            conn.execute(f"SET memory_limit = '{memory_limit or default_memory_limit()}'")
            create_schema(conn)
            with _progress(progress, f"building {config.scale_name}") as on_step:
                generate(conn, config, on_step)
            rolled = build_rollups(conn)
            rows = table_row_counts(conn)
        finally:
            conn.close()
        os.replace(tmp, out)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        spill = tmp.parent / (tmp.name + ".spill")
        if spill.is_dir():
            for f in spill.iterdir():
                f.unlink(missing_ok=True)
            spill.rmdir()
    seconds = time.perf_counter() - t0
    total = sum(rows.values())
    return BuildStats(
        path=str(out),
        scale=config.scale_name,
        customers=config.customers,
        seed=config.seed,
        end=config.end,
        months=config.months,
        rows=rows,
        total_rows=total,
        seconds=round(seconds, 3),
        rows_per_second=round(total / seconds, 1) if seconds > 0 else 0.0,
        rollup_rows=rolled.rows,
        rollup_seconds=rolled.seconds,
    )


def ensure_demo(path: Path | str, progress: bool = False) -> Path:
    """Build the demo warehouse (seed 7, end 2025-12-31) at `path` unless it already exists."""
    path = Path(path)
    if not path.exists():
        build_warehouse("demo", DEMO_SEED, DEMO_END, path, progress=progress)
    return path
