"""Scaling curve: warm end-to-end ask() of five fixed questions at 1x, 4x and 16x data size.

Warehouses of N, 4N and 16N customers (seed 7, ending 2025-12-31) are built once into
warehouse/bench/ (16N = 4M customers is warehouse/large.duckdb); --quick uses N = 3,000 (demo
size); `--sizes 1,4` stops at 4N. Each question is asked once to warm up, then `--runs` times,
with the daily rollups on (the default) and off (facts only) alternating in the same run; the
medians are reported with their ratio, their growth over 1x next to the growth of the rows the
facts path scans, and the fitted exponent log(t_last/t_1x)/log(rows growth) (1 = linear in data
size, 0 = flat). Rollup build time and size are reported as shares of each warehouse's build.

Run: python -m benchmarks.bench_scaling [--quick] [--runs N] [--base N] [--sizes 1,4,16]
"""

from __future__ import annotations

import argparse
import json
import math
import re
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


def profiled(path: Path, sql: str, runs: int = 3) -> tuple[int, float]:
    """(rows scanned, median DuckDB profiler CPU ms) of a guarded statement (2 threads)."""
    import duckdb

    out = OUT_DIR / "profile.json"
    conn = duckdb.connect(str(path), read_only=True)
    try:
        conn.execute("SET threads = 2")
        conn.execute("PRAGMA enable_profiling = 'json'")
        conn.execute(f"SET profiling_output = '{out}'")
        cpu, rows = [], 0
        for _ in range(runs + 1):  # the first run warms the buffer pool
            conn.execute(sql).fetchall()
            query = json.loads(out.read_text())["query"]
            cpu.append(float(query["cpu_time"]) * 1000)
            rows = int(query["total_rows_scanned"])
    finally:
        conn.close()
    return rows, p50(cpu[1:])


def _timed(assistant: Any, question: str) -> tuple[float, float, str]:
    """(ask ms, execute ms, the rollup it read or 'facts') of one warm ask()."""
    from app.core.request import Request

    t0 = time.perf_counter()
    ans = assistant.ask(Request(question, as_of=AS_OF, account=ACCOUNT))
    total = (time.perf_counter() - t0) * 1000
    if ans.status != "answered":
        raise SystemExit(f"{question!r}: {ans.status} {ans.error}")
    read = re.search(r"\b(rollup_\w+)", ans.sql or "")
    _SQL[(id(assistant), question)] = ans.sql or ""
    return total, float(ans.timings.execute_ms or 0.0), read.group(1) if read else "facts"


_SQL: dict[tuple[int, str], str] = {}  # the guarded SQL each assistant ran for each question


def measure(path: Path, runs: int) -> list[dict[str, Any]]:
    """Median warm ask() time (and DuckDB execute time) of each question, rollups on and off."""
    from app.core.settings import Settings
    from app.pipeline.assistant import Assistant

    rows = _rows(path, [t for _, t in QUESTIONS])  # before the assistants open the file
    on = Assistant(Settings(warehouse_path=path, **SETTINGS))  # type: ignore[arg-type]
    off = Assistant(Settings(warehouse_path=path, rollups=False, **SETTINGS))  # type: ignore[arg-type]
    out = []
    for question, tbl in QUESTIONS:
        _timed(on, question), _timed(off, question)  # warm-up
        got: dict[str, list[float]] = {"ask_ms": [], "execute_ms": [], "facts_ask_ms": []}
        got["facts_execute_ms"] = []
        read = "facts"
        for _ in range(runs):
            total, execute, read = _timed(on, question)
            got["ask_ms"].append(total)
            got["execute_ms"].append(execute)
            total, execute, _ = _timed(off, question)
            got["facts_ask_ms"].append(total)
            got["facts_execute_ms"].append(execute)
        out.append({"question": question, "table": tbl, "table_rows": rows[tbl], "read": read})
        out[-1].update(got)
    on.session.executor.close()
    off.session.executor.close()
    for entry in out:  # after the assistants' connections are closed
        for key, assistant in (("rollup", on), ("facts", off)):
            scanned, cpu = profiled(path, _SQL[(id(assistant), str(entry["question"]))])
            entry[f"{key}_rows_scanned"], entry[f"{key}_cpu_ms"] = scanned, cpu
    return out


def rollup_share(path: Path) -> dict[str, Any]:
    """Rollup rows, storage blocks and build seconds against the whole warehouse's."""
    import duckdb

    from app.semantic.rollups import is_rollup_table

    conn = duckdb.connect(str(path), read_only=True)
    try:
        blocks: dict[str, int] = {}
        rows: dict[str, int] = {}
        for (name,) in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
        ).fetchall():
            found = conn.execute(
                "SELECT count(DISTINCT block_id), max(row_group_id) FROM pragma_storage_info(?) "
                "WHERE persistent",
                [name],
            ).fetchone()
            blocks[name] = int(found[0]) if found else 0
            counted = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            rows[name] = int(counted[0]) if counted else 0
    finally:
        conn.close()
    meta_path = path.with_name(path.name + ".json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    rolled = [n for n in blocks if is_rollup_table(n)]
    return {
        "rollup_blocks": sum(blocks[n] for n in rolled),
        "all_blocks": sum(blocks.values()),
        "rollup_rows": sum(rows[n] for n in rolled),
        "all_rows": sum(rows.values()),
        "rollup_seconds": meta.get("rollup_seconds"),
        "build_seconds": meta.get("seconds"),
        "file_bytes": path.stat().st_size,
    }


def _exponent(t0: float, t1: float, r0: int, r1: int) -> float:
    return math.log(t1 / t0) / math.log(r1 / r0) if r0 and r1 > r0 else float("nan")


def markdown(
    results: dict[int, list[dict[str, Any]]], runs: int, shares: dict[int, dict[str, Any]]
) -> str:
    """Per question: facts and rollup medians at each size, their ratio, growth and exponents."""
    sizes = sorted(results)
    base, last = sizes[0], sizes[-1]
    span = f"1x→{last // base}x"
    head = ["question", "read with rollups on"]
    for s in sizes:
        head += [f"{s // base}x facts ms", f"{s // base}x rollup ms", f"{s // base}x ratio"]
    head += [f"rows growth {span}", "exponent facts", "exponent rollups"]
    body = []
    for i, (question, _tbl) in enumerate(QUESTIONS):
        cells: list[str] = [question, f"`{results[last][i]['read']}`"]
        on = [p50(results[s][i]["ask_ms"]) for s in sizes]
        off = [p50(results[s][i]["facts_ask_ms"]) for s in sizes]
        for a, b in zip(off, on, strict=True):
            cells += [fmt_ms(a), fmt_ms(b), f"{a / b:.1f}x"]
        r0, r1 = results[base][i]["table_rows"], results[last][i]["table_rows"]
        cells += [
            f"{r1 / r0:.1f}x" if r0 else "n/a",
            f"{_exponent(off[0], off[-1], r0, r1):.2f}",
            f"{_exponent(on[0], on[-1], r0, r1):.2f}",
        ]
        body.append(cells)
    exec_head = ["question", *(f"{s // base}x execute facts / rollup ms" for s in sizes)]
    exec_head += ["exponent facts", "exponent rollups"]
    exec_body = []
    for i, (question, _tbl) in enumerate(QUESTIONS):
        on = [p50(results[s][i]["execute_ms"]) for s in sizes]
        off = [p50(results[s][i]["facts_execute_ms"]) for s in sizes]
        r0, r1 = results[base][i]["table_rows"], results[last][i]["table_rows"]
        exec_body.append(
            [
                question,
                *(f"{fmt_ms(a)} / {fmt_ms(b)}" for a, b in zip(off, on, strict=True)),
                f"{_exponent(off[0], off[-1], r0, r1):.2f}",
                f"{_exponent(on[0], on[-1], r0, r1):.2f}",
            ]
        )
    prof_head = ["question", *(f"{s // base}x facts / rollup" for s in sizes)]
    prof_head += ["exponent facts", "exponent rollups"]
    prof_body = []
    for i, (question, _tbl) in enumerate(QUESTIONS):
        on = [results[s][i]["rollup_cpu_ms"] for s in sizes]
        off = [results[s][i]["facts_cpu_ms"] for s in sizes]
        r0, r1 = results[base][i]["table_rows"], results[last][i]["table_rows"]
        prof_body.append(
            [
                question,
                *(
                    f"{results[s][i]['facts_rows_scanned']:,} rows {fmt_ms(off[k])} ms / "
                    f"{results[s][i]['rollup_rows_scanned']:,} rows {fmt_ms(on[k])} ms"
                    for k, s in enumerate(sizes)
                ),
                f"{_exponent(off[0], off[-1], r0, r1):.2f}",
                f"{_exponent(on[0], on[-1], r0, r1):.2f}",
            ]
        )
    rows_line = ", ".join(
        f"{s // base}x = {s:,} customers ({results[s][1]['table_rows']:,} balance transactions "
        f"of {ACCOUNT})"
        for s in sizes
    )
    share_rows = []
    for s in sizes:
        sh = shares[s]
        secs, total = sh.get("rollup_seconds"), sh.get("build_seconds")
        share_rows.append(
            [
                f"{s // base}x",
                f"{sh['rollup_rows']:,} of {sh['all_rows']:,} "
                f"({sh['rollup_rows'] / sh['all_rows']:.2%})",
                f"{sh['rollup_blocks']:,} of {sh['all_blocks']:,} "
                f"({sh['rollup_blocks'] / max(1, sh['all_blocks']):.1%})",
                f"{secs:.1f} of {total:.1f} ({secs / total:.1%})" if secs and total else "n/a",
            ]
        )
    return "\n".join(
        [
            f"Warm ask() end to end, median of {runs} runs after one warm-up, rollups on and off "
            f"alternating in the same run, as of {AS_OF}, account {ACCOUNT}. Sizes: {rows_line}. "
            "Ratio = facts ms / rollup ms. Exponent = log(time growth) / log(rows growth of the "
            "table the facts path scans): 1 is linear, 0 flat.",
            "",
            table(head, body, "ll" + "r" * (len(head) - 2)),
            "",
            "The DuckDB execute step alone (Answer.timings.execute_ms, same runs):",
            "",
            table(exec_head, exec_body),
            "",
            "DuckDB's own profile of the same guarded statements, run alone after the timed runs "
            "(2 threads, median of 3 after one warm-up): rows scanned and the profiler's CPU time "
            "(`cpu_time`), which a loaded machine disturbs less than wall time:",
            "",
            table(prof_head, prof_body),
            "",
            "Rollups' share of each warehouse (rows; 256 KiB storage blocks; build seconds of "
            "`build_rollups` within the whole build):",
            "",
            table(["size", "rows", "storage blocks", "build seconds"], share_rows),
        ]
    )


def run(
    quick: bool = False, runs: int = 3, base: int | None = None, sizes: tuple[int, ...] = (1, 4, 16)
) -> str:
    """Build (once) and measure every size; return the markdown section."""
    base = base or (3_000 if quick else 250_000)
    results: dict[int, list[dict[str, Any]]] = {}
    shares: dict[int, dict[str, Any]] = {}
    for n in (k * base for k in sizes):
        path = ensure_scale(n, log)
        log(f"scaling: {n:,} customers ...")
        results[n] = measure(path, runs)
        shares[n] = rollup_share(path)
    (OUT_DIR / "scaling.json").write_text(json.dumps({str(k): v for k, v in results.items()}))
    (OUT_DIR / "scaling_rollups.json").write_text(
        json.dumps({str(k): v for k, v in shares.items()})
    )
    return markdown(results, runs, shares)


def main(argv: list[str] | None = None) -> int:
    """Entry point: print the scaling section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3k/12k/48k customers")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--base", type=int, help="customers at 1x")
    ap.add_argument("--sizes", default="1,4,16", help="multiples of the base size, e.g. 1,4")
    args = ap.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    sizes = tuple(int(x) for x in args.sizes.split(","))
    print(header_line("Scaling curve"))
    print()
    print(run(args.quick, args.runs, args.base, sizes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
