"""Shared helpers of the benchmark scripts: percentiles, tables, machine facts, warehouses."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = Path(os.environ.get("BENCH_OUT_DIR") or ROOT / "benchmarks" / "out")  # scratch + JSON
WAREHOUSE_DIR = ROOT / "warehouse"
LARGE = WAREHOUSE_DIR / "large.duckdb"
SEED, END = 7, "2025-12-31"


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def p50(values: Sequence[float]) -> float:
    """Median."""
    return statistics.median(values)


def geomean(values: Iterable[float]) -> float:
    """Geometric mean of positive numbers."""
    vals = list(values)
    return math.exp(sum(math.log(v) for v in vals) / len(vals)) if vals else float("nan")


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], align: str = "") -> str:
    """A markdown table; `align` has one char per column: l (default for the first) or r."""
    align = align or ("l" + "r" * (len(header) - 1))
    sep = ["---" if a == "l" else "---:" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_ms(v: float) -> str:
    """Milliseconds with sensible precision."""
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 1000 else f"{v:,.0f}"


def git_commit() -> str:
    """Short commit of the working tree, with '+dirty' when files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return head + ("+dirty" if dirty else "") if head else "unknown"


def machine() -> dict[str, Any]:
    """Facts printed at the top of every report."""
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        mem = float("nan")
    import duckdb
    import sqlglot
    from sqlglot import tokens

    return {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),  # allowed-clock: report header
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "sqlglot": sqlglot.__version__
        + (" (sqlglotc compiled)" if getattr(tokens, "SQLGLOTC_INSTALLED", False) else " (pure)"),
        "commit": git_commit(),
    }


def header_line(title: str) -> str:
    """One line naming what ran where."""
    m = machine()
    return (
        f"{title}: {m['date']}, {m['cores']} cores, {m['memory_gib']} GiB, commit {m['commit']}, "
        f"Python {m['python']}, DuckDB {m['duckdb']}, sqlglot {m['sqlglot']}"
    )


def run_json(
    args: list[str], env: dict[str, str] | None = None, timeout: float | None = None
) -> Any:
    """Run a Python module in a subprocess; parse the JSON its last stdout line holds."""
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"PYTHONPATH": str(ROOT)} | (env or {}),
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (MiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale_warehouse(customers: int) -> Path:
    """Path of a cached benchmark warehouse with this many customers (seed 7, ends 2025-12-31)."""
    if customers == 4_000_000:
        return LARGE
    return WAREHOUSE_DIR / "bench" / f"scale-{customers}-seed{SEED}.duckdb"


def ensure_scale(customers: int, log: Any = None) -> Path:
    """Build the cached warehouse of this size unless it exists (never rebuilt silently)."""
    path = scale_warehouse(customers)
    if path.exists():
        return path
    from data.build import build_warehouse

    if log:
        log(f"building {customers:,}-customer warehouse into {path} ...")
    stats = build_warehouse(customers, SEED, dt.date.fromisoformat(END), path, progress=False)
    meta = path.with_name(path.name + ".json")
    meta.write_text(stats.model_dump_json(indent=1))
    return path


def log(msg: str) -> None:
    """Progress on stderr (stdout carries the tables)."""
    print(msg, file=sys.stderr, flush=True)
