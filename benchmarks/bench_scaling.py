"""Scaling curve: warm end-to-end ask() of five fixed questions at 1x, 4x and 16x data size.

Warehouses of N, 4N and 16N customers (seed 7, ending 2025-12-31) are built once into
warehouse/bench/ (16N = 4M customers is warehouse/large.duckdb); --quick uses N = 3,000 (demo
size). Each question is asked once to warm up, then `--runs` times; the median is reported with
its growth over 1x next to the growth of the rows it scans, and the fitted exponent
log(t16/t1)/log(16) (1 = linear in data size, 0 = flat).

Run: python -m benchmarks.bench_scaling [--quick] [--runs N] [--base N]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks._common import OUT_DIR, ensure_scale, fmt_ms, header_line, log, p50, table

AS_OF = date(2025, 12, 31)
ACCOUNT = "acct_demo_01"
QUESTIONS = (
    ("What was gross volume last quarter?", "charges"),
    ("Net volume by reporting category last month", "balance_transactions"),
    ("MRR by month this year", "subscription_item_change_events"),
    ("Top 10 customers by revenue in 2025", "revenue_recognition_debits_and_credits"),
    ("Show unpaid invoices over $1,000", "invoices"),
)
SETTINGS = {"query_timeout_ms": 600_000, "memory_limit": "6GB"}


def _rows(path: Path, tables: list[str]) -> dict[str, int]:
    import duckdb

    conn = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for t in tables:
            row = conn.execute(
                f'SELECT count(*) FROM "{t}" WHERE merchant_id = ?', [ACCOUNT]
            ).fetchone()
            out[t] = int(row[0]) if row else 0
        return out
    finally:
        conn.close()


def measure(path: Path, runs: int) -> list[dict[str, Any]]:
    """Median warm ask() time (and DuckDB execute time) of each question on one warehouse."""
    from app.core.request import Request
    from app.core.settings import Settings
    from app.pipeline.assistant import Assistant

    rows = _rows(path, [t for _, t in QUESTIONS])  # before the assistant opens the file
    assistant = Assistant(Settings(warehouse_path=path, **SETTINGS))  # type: ignore[arg-type]
    out = []
    for question, tbl in QUESTIONS:
        first = assistant.ask(Request(question, as_of=AS_OF, account=ACCOUNT))
        if first.status != "answered":
            raise SystemExit(f"{question!r} on {path.name}: {first.status} {first.error}")
        total, execute = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            ans = assistant.ask(Request(question, as_of=AS_OF, account=ACCOUNT))
            total.append((time.perf_counter() - t0) * 1000)
            execute.append(float(ans.timings.execute_ms or 0.0))
        out.append(
            {
                "question": question,
                "table": tbl,
                "table_rows": rows[tbl],
                "ask_ms": total,
                "execute_ms": execute,
            }
        )
    assistant.session.executor.close()
    return out


def markdown(results: dict[int, list[dict[str, Any]]], runs: int) -> str:
    """One row per question: median ms at each size, growth and fitted exponent."""
    sizes = sorted(results)
    base = sizes[0]
    head = ["question", "scanned table", *[f"{s // base}x ms" for s in sizes]]
    head += ["rows growth 1x→16x", "time growth 1x→16x", "exponent"]
    body = []
    for i, (question, tbl) in enumerate(QUESTIONS):
        ms = [p50(results[s][i]["ask_ms"]) for s in sizes]
        rows = [results[s][i]["table_rows"] for s in sizes]
        growth_t = ms[-1] / ms[0]
        growth_r = rows[-1] / rows[0] if rows[0] else float("nan")
        exponent = math.log(growth_t) / math.log(growth_r) if growth_r > 1 else float("nan")
        body.append(
            [
                question,
                f"`{tbl}`",
                *[fmt_ms(v) for v in ms],
                f"{growth_r:.1f}x",
                f"{growth_t:.1f}x",
                f"{exponent:.2f}",
            ]
        )
    rows_line = ", ".join(
        f"{s // base}x = {s:,} customers ({results[s][1]['table_rows']:,} balance transactions "
        f"of {ACCOUNT})"
        for s in sizes
    )
    return "\n".join(
        [
            f"Warm ask() end to end, median of {runs} runs after one warm-up, as of {AS_OF}, "
            f"account {ACCOUNT}. Sizes: {rows_line}. Exponent = log(time growth) / log(rows "
            "growth of the scanned table): 1 is linear, 0 flat.",
            "",
            table(head, body, "ll" + "r" * (len(head) - 2)),
        ]
    )


def run(quick: bool = False, runs: int = 3, base: int | None = None) -> str:
    """Build (once) and measure every size; return the markdown section."""
    base = base or (3_000 if quick else 250_000)
    results: dict[int, list[dict[str, Any]]] = {}
    for n in (base, 4 * base, 16 * base):
        path = ensure_scale(n, log)
        log(f"scaling: {n:,} customers ...")
        results[n] = measure(path, runs)
    (OUT_DIR / "scaling.json").write_text(json.dumps({str(k): v for k, v in results.items()}))
    return markdown(results, runs)


def main(argv: list[str] | None = None) -> int:
    """Entry point: print the scaling section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3k/12k/48k customers")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--base", type=int, help="customers at 1x")
    args = ap.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    print(header_line("Scaling curve"))
    print()
    print(run(args.quick, args.runs, args.base))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
