"""DuckDB vs Apache Spark (local mode over the Parquet export): the same questions, timed.

The questions are the eval cases tests/test_spark.py checks for equal answers (`select_cases`):
a spread over payments, FX, billing, tax, MRR, revenue recognition, time phrases and traps.
Each is asked `--repeat` times on each engine after one untimed warm-up; the table shows the
median time of the execute step (the SQL on the engine) and of the whole ask(). Start-up costs
(Parquet export, JVM and session start, view registration) are reported separately.

Run: python -m benchmarks.bench_spark [--repeat N] [--per-area K] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._common import OUT_DIR, ROOT, fmt_ms, table

if TYPE_CHECKING:
    from evals.cases import Case

AREAS = (
    *("payments", "fx", "billing", "tax", "mrr", "revenue_recognition", "time_phrases"),
    "traps",
)


def select_cases(per_area: int = 4) -> list[Case]:
    """Answer cases on the demo warehouse, `per_area` spread evenly through each area's file."""
    from evals.cases import load_cases

    picked: list[Case] = []
    for area in AREAS:
        cases = [
            c
            for c in load_cases(ROOT / "evals" / "cases" / f"{area}.yaml")
            if c.expected.outcome == "answer" and not c.inputs.history and "demo" in c.warehouses
        ]
        if len(cases) <= per_area:
            picked += cases
            continue
        step = (len(cases) - 1) / (per_area - 1) if per_area > 1 else 0
        picked += [cases[round(i * step)] for i in range(per_area)]
    return picked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--per-area", type=int, default=4)
    parser.add_argument("--out", type=Path, default=OUT_DIR / "spark.md")
    args = parser.parse_args(argv)

    from app.core.request import Request
    from app.core.settings import Settings
    from app.pipeline.assistant import Assistant
    from app.run.export import export_parquet
    from app.run.spark import SparkWarehouse
    from app.run.spark_session import spark_session
    from evals.warehouses import ensure_warehouse

    demo = ensure_warehouse("demo")
    load = os.getloadavg()[0]
    cases = select_cases(args.per_area)
    startup: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "demo"
        t = time.perf_counter()
        manifest = export_parquet(demo, export)
        startup.append(("Parquet export of the demo warehouse", time.perf_counter() - t))
        settings = Settings(
            warehouse_path=demo, engine="spark", parquet_dir=export, query_timeout_ms=600_000
        )
        t = time.perf_counter()
        spark_session(settings)
        startup.append(("JVM + Spark session start (local[2])", time.perf_counter() - t))
        t = time.perf_counter()
        warehouse = SparkWarehouse(settings, export)
        views = f"register {len(manifest.tables)} temp views + one warm-up query"
        startup.append((views, time.perf_counter() - t))
        duck = Assistant(Settings(warehouse_path=demo))
        spark = Assistant(settings, executor=warehouse)
        rows = []
        totals = {"duckdb": 0.0, "spark": 0.0}
        for case in cases:
            times: dict[str, tuple[float, float]] = {}
            for name, assistant in (("duckdb", duck), ("spark", spark)):
                inputs = case.inputs
                execute, total = [], []
                for attempt in range(args.repeat + 1):
                    answer = assistant.ask(
                        Request(inputs.question, as_of=inputs.as_of, account=inputs.account)
                    )
                    if attempt and answer.timings:
                        execute.append(answer.timings.execute_ms or 0.0)
                        total.append(answer.timings.total_ms or 0.0)
                times[name] = (statistics.median(execute), statistics.median(total))
                totals[name] += times[name][0]
            d, s = times["duckdb"], times["spark"]
            rows.append(
                [
                    case.name,
                    fmt_ms(d[0]),
                    fmt_ms(s[0]),
                    f"{s[0] / d[0]:.0f}×" if d[0] else "—",
                    fmt_ms(d[1]),
                    fmt_ms(s[1]),
                ]
            )
            print(f"{case.name}: duckdb {d[0]:.1f} ms, spark {s[0]:.1f} ms", file=sys.stderr)
        duck.executor.close()
        warehouse.close()
    header = [
        "case",
        "DuckDB execute ms",
        "Spark execute ms",
        "ratio",
        "DuckDB ask ms",
        "Spark ask ms",
    ]
    report = [
        f"# DuckDB vs Spark local mode: {len(cases)} eval questions, median of {args.repeat}",
        "",
        table(header, rows, "lrrrrr"),
        "",
        f"Sum of medians (execute): DuckDB {fmt_ms(totals['duckdb'])} ms, "
        f"Spark {fmt_ms(totals['spark'])} ms. {os.cpu_count()} cores; load average "
        f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.",
        "",
        table(["start-up step", "seconds"], [[n, f"{s:.1f}"] for n, s in startup]),
    ]
    text = "\n".join(report) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
