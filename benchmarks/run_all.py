"""`make bench`: run every benchmark and write benchmarks/RESULTS.md (date, cores, commit, goals).

Each benchmark runs as its own subprocess (`python -m benchmarks.<name>`) so that memory and
caches of one do not leak into the next; their markdown goes into one report. `--quick` (or
BENCH_QUICK=1) skips everything at large scale: no large warehouse, the SQL comparison on the
`small` warehouse, the scaling curve at 3k/12k/48k customers, no Spark.

The large warehouse (4M customers, ~21M balance transactions) is built once into
warehouse/large.duckdb (git-ignored, ~25 GB, ~13 min on 2 cores) and reused; a full run builds it
if it is missing.

`import` measures `data import` against DuckDB's own `COPY ... FROM` of the same files on the
demo; full mode adds the large warehouse's Parquet export.

Run: python -m benchmarks.run_all [--quick] [--only engine,sql,...] [--out benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import LARGE, OUT_DIR, ROOT, geomean, log, machine, p50, pct, table

BASELINE = "5f0d432"  # the commit before the performance work (issue 8)
SECTIONS = (
    ("engine", "1-2. Engine latency and warm end-to-end ask()"),
    ("sql", "3. Generated SQL vs hand-written reference SQL"),
    ("pages", "4. Reporting page load"),
    ("tokens", "5. Prompt tokens: agent's first request vs LangChain table info"),
    ("generate", "6. Warehouse generation"),
    ("scaling", "7. Scaling curve"),
    ("spark", "DuckDB vs Spark (same questions)"),
    ("cli", "8. One-shot CLI start-up (issue 13)"),
    ("api", "9. HTTP API under concurrent load (issue 15)"),
    ("import", "10. Importing a Stripe delivery vs DuckDB's COPY FROM (issue 16)"),
)


def _args(name: str, quick: bool) -> list[str] | None:
    """Command-line arguments of one benchmark module (None: skipped in this mode)."""
    if name == "engine":
        return ["--quick"] if quick else []
    if name == "sql":
        return ["--baseline-ref", BASELINE, *(["--quick"] if quick else [])]
    if name == "pages":
        return ["--runs", "3"] if quick else []
    if name == "tokens":
        return []
    if name == "generate":
        return ["--scales", "demo"] if quick else ["--scales", "demo,small,300000", "--floor"]
    if name == "scaling":
        return ["--quick"] if quick else []
    if name == "spark":
        return None if quick else ["--repeat", "3"]
    if name == "cli":
        return ["--runs", "7"] if quick else []
    if name == "api":
        return ["--clients", "20", "--duration", "15" if quick else "60"]
    if name == "import":  # full mode adds the large warehouse's Parquet export when it exists
        return ["--runs", "1"] if quick else ["--runs", "3", "--large"]
    return []


def ensure_large() -> None:
    """Build warehouse/large.duckdb (seed 7) once, recording its build stats beside it."""
    if LARGE.exists():
        return
    log(f"building the large warehouse into {LARGE} (once; ~13 min on 2 cores) ...")
    from benchmarks.bench_generate import run_build

    stats = run_build("large", 7, "2025-12-31", LARGE.parent, tag="-new")
    built = Path(stats["path"])
    built.replace(LARGE)
    stats["path"] = str(LARGE)
    import json

    LARGE.with_name(LARGE.name + ".json").write_text(json.dumps(stats, indent=1))


def run_section(name: str, args: list[str]) -> tuple[str, float, bool]:
    """Run one benchmark module; return its stdout, seconds and success."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", f"benchmarks.bench_{name}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        return (
            f"Failed (exit {proc.returncode}):\n\n```\n{proc.stderr[-3000:]}\n```",
            seconds,
            False,
        )
    return proc.stdout.strip(), seconds, True


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks and write the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", default=bool(os.environ.get("BENCH_QUICK")))
    ap.add_argument("--only", help="comma-separated subset: " + ",".join(n for n, _ in SECTIONS))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    ap.add_argument("--assemble", action="store_true", help="run nothing; rebuild the report")
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else {n for n, _ in SECTIONS}
    if args.assemble:
        only = set()
    if not args.quick and only & {"engine", "sql", "scaling"}:
        ensure_large()
    m = machine()
    load = os.getloadavg()
    parts = [
        "# Benchmark results",
        "",
        f"Written by `make bench{'' if not args.quick else ' BENCH_QUICK=1'}` "
        f"(`python -m benchmarks.run_all{' --quick' if args.quick else ''}`).",
        "",
        f"- Date: {m['date']}",
        f"- Machine: {m['cores']} cores, {m['memory_gib']} GiB RAM; load average at start "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min; the machine is shared)",
        f"- Commit: {m['commit']}",
        f"- Python {m['python']}, DuckDB {m['duckdb']}, sqlglot {m['sqlglot']}",
        f"- Mode: {'quick (no large-scale parts)' if args.quick else 'full'}",
        "",
        "Figures are medians (p50) and 95th percentiles over the runs stated in each section; "
        "ratios compare figures measured in the same run.",
    ]
    failed = []
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, title in SECTIONS:
        saved = OUT_DIR / f"section-{name}{'-quick' if args.quick else ''}.md"
        if name not in only:
            if saved.exists():  # keep the last good output of a section not re-run now
                note = "(From an earlier run; its own header line gives its date and commit.)"
                parts += ["", f"## {title}", "", note, "", saved.read_text()]
            continue
        extra = _args(name, args.quick)
        if extra is None or not (ROOT / "benchmarks" / f"bench_{name}.py").exists():
            parts += ["", f"## {title}", "", "Skipped in this mode."]
            continue
        log(f"== {name} {' '.join(extra)}")
        text, seconds, ok = run_section(name, extra)
        if not ok:
            failed.append(name)
        cmd = f"python -m benchmarks.bench_{name} {' '.join(extra)}".strip()
        section = f"`{cmd}` ({seconds:.0f} s)\n\n{text}"
        if ok:
            saved.write_text(section)
        parts += ["", f"## {title}", "", section]
        log(f"   {seconds:.0f} s{'' if ok else ' FAILED'}")
        args.out.write_text("\n".join(parts) + "\n")  # progress: a report after every section
    parts += ["", goals_summary("-quick" if args.quick else "")]
    args.out.write_text("\n".join(parts) + "\n")
    log(f"wrote {args.out}")
    return 1 if failed else 0


def _load(name: str) -> Any:
    path = OUT_DIR / name
    return json.loads(path.read_text()) if path.exists() else None


def _find(pattern: str, section: str, suffix: str) -> str | None:
    path = OUT_DIR / f"section-{section}{suffix}.md"
    found = re.search(pattern, path.read_text()) if path.exists() else None
    return found.group(1) if found else None


def goals_summary(suffix: str = "") -> str:
    """One row per goal of issue 8: the measured figure and met / not met, from the sections."""
    rows: list[list[str]] = []
    engine = _load("engine.json")
    if engine:
        after = list(engine["results"].values())[-1]
        warm = pct(after["plan_compile_ms"], 0.95)
        cold = pct(after.get("cold_plan_compile_ms") or after["plan_compile_ms"], 0.95)
        ok = warm <= 5.0
        rows.append(
            [
                "1",
                "plan + compile p95 ≤ 5 ms",
                f"{warm:.2f} ms (first-time shape: {cold:.2f} ms)",
                "met"
                if ok and cold <= 5.0
                else "met for shapes seen before; not for a first-time shape"
                if ok
                else "not met",
            ]
        )
        ask = pct(after["ask_ms"], 0.95)
        rows.append(
            [
                "2",
                "warm ask() p95 ≤ 50 ms on demo",
                f"{ask:.1f} ms",
                "met" if ask <= 50 else "not met",
            ]
        )
        if engine.get("large"):
            big = engine["large"]["ask_ms"]
            rows.append(
                [
                    "2",
                    "warm ask() on large (no goal)",
                    f"p50 {p50(big):.0f} ms, p95 {pct(big, 0.95):.0f} ms",
                    "reported",
                ]
            )
    sql = _load("sql.json")
    if sql:
        ratios = [p50(r["generated_ms"]) / p50(r["reference_ms"]) for r in sql]
        gm, worst = geomean(ratios), max(ratios)
        verdict = "met" if gm <= 1.2 and worst <= 2.0 else "not met"
        rows.append(
            [
                "3",
                "generated / reference SQL: geomean ≤ 1.2, none > 2×",
                f"geomean {gm:.2f}, worst {worst:.2f} ({len(sql)} cases)",
                verdict,
            ]
        )
    pages = _load("pages.json")
    if pages:
        worst_page = max(pages, key=lambda r: p50(r["cold_ms"]))
        ms = p50(worst_page["cold_ms"])
        rows.append(
            [
                "4",
                "each reporting page < 300 ms on demo",
                f"slowest: {worst_page['page']} {ms:.0f} ms (cold)",
                "met" if ms < 300 else "not met",
            ]
        )
    tokens = _find(r"Average ratio ([0-9.]+)", "tokens", suffix)
    if tokens:
        rows.append(
            [
                "5",
                "agent first-request tokens ≤ ⅓ of LangChain's",
                f"ratio {tokens}",
                "met" if float(tokens) <= 1 / 3 else "not met",
            ]
        )
    rate = _find(r"\| current \| 300000 \|[^|]*\|[^|]*\|[^|]*\| ([0-9,]+) \|", "generate", suffix)
    floor = _find(r"= ([0-9,]+) rows/s; no generator", "generate", suffix)
    same = _find(r"\| current \| demo \|.*\| (identical|DIFFERENT[^|]*) \|", "generate", suffix)
    if rate:
        reason = (
            f"not met: re-writing the finished tables alone runs at {floor} rows/s here, so "
            "2M rows/s is out of reach for any generator writing this data in this format"
            if floor
            else "not met"
        )
        rows.append(
            [
                "6",
                "generation ≥ 2M rows/s on 2 cores, same data",
                f"{rate} rows/s at 300k customers; data {same or '?'}",
                "met" if int(rate.replace(",", "")) >= 2_000_000 else reason,
            ]
        )
    scaling = _load("scaling.json")
    if scaling:
        sizes = sorted(scaling, key=int)
        exps = []
        for i in range(len(scaling[sizes[0]])):
            t0, t1 = p50(scaling[sizes[0]][i]["ask_ms"]), p50(scaling[sizes[-1]][i]["ask_ms"])
            r0, r1 = scaling[sizes[0]][i]["table_rows"], scaling[sizes[-1]][i]["table_rows"]
            exps.append(math.log(t1 / t0) / math.log(r1 / r0) if r0 and r1 > r0 else float("nan"))
        rows.append(
            [
                "7",
                "cost near-linear in scanned rows, flat for point lookups",
                "exponents " + ", ".join(f"{e:.2f}" for e in exps),
                "see section 7",
            ]
        )
    cli = _load("cli.json")
    if cli:
        from benchmarks.bench_cli import GOAL_RATIO, cpu_ratio, ratio

        r = ratio(cli)
        rows.append(
            [
                "13.7",
                f"one-shot `ask --json` ≤ {GOAL_RATIO:.0f}× `python -c 'import duckdb'` (wall)",
                f"{r:.2f}× (CPU time {cpu_ratio(cli):.2f}×)",
                "met" if r <= GOAL_RATIO else "not met",
            ]
        )
    api = _load("api.json")
    if api:
        clean = api["errors"] == 0 and api["cross_account"] == 0
        rows.append(
            [
                "15",
                f"API, {api['clients']} clients on loopback: 0 errors, 0 cross-account rows",
                f"{api['rps']:.1f} questions/s, p50 {api['p50_ms']:.0f} ms, p95 "
                f"{api['p95_ms']:.0f} ms; {api['errors']} errors, {api['cross_account']} "
                "cross-account",
                "met" if clean else "not met",
            ]
        )
    notes = [
        "",
        "Why a goal is not met (when it is not):",
        "",
        "- 1, first-time shape: the compiler builds sqlglot expressions directly and parses only "
        "the semantic model's SQL fragments, once each (the cache in app/sql/compile/sqlbuild.py); "
        "a first question pays those parses and the guard's re-verification parse. sqlglot's "
        "compiled build (`sqlglot[c]`, sqlglotc) parses about 3x faster but cannot load "
        "app/sql/dialects/sigma.py's dialect, which subclasses sqlglot's parser (mypyc: "
        '"interpreted classes cannot inherit from compiled").',
        "- 3: the per-case table of section 3 names any case above 2x.",
        "- 6: the generator was not changed (its output must stay identical); the write floor "
        "in section 6 bounds what any generator writing the same tables can reach here.",
        "- 7: fixed per-query costs dominate at 1x, so growth is sub-linear until the scan "
        "dominates; the invoice listing is a filtered scan of invoices, not a key lookup, so "
        "it grows with the table too.",
        "- 13.7: the CLI imports neither the eval suite nor rich for `--json`, and reads the DDL "
        "catalog and the semantic model from a parse cache; what remains is import and first-use "
        "work below the CLI: regex compilation in app/understand (timeparse's rules at import, "
        "the lexicon on the first question), pydantic-settings importing asyncio, and sqlglot "
        "and DuckDB themselves (section 8 lists import time by package).",
    ]
    head = ["#", "goal", "measured", "verdict"]
    return "\n".join(["## Goals", "", table(head, rows, "llll"), *notes])


if __name__ == "__main__":
    raise SystemExit(main())
