"""Benchmark the synthetic warehouse generator: rows/s, peak memory, and identical output.

Each build runs in its own subprocess so that its peak memory is measured in isolation: peak
memory is the build process's peak resident set size (``resource.getrusage(RUSAGE_SELF)
.ru_maxrss``), which includes DuckDB's buffer pool because DuckDB runs in-process. After each
build every table's `count(*)` and `sum(hash(row))` is compared with
benchmarks/warehouse_checksums.json (recorded from the generator before any optimisation), so
a faster generator is only accepted if it writes the very same data.

`--baseline-ref REF` also builds each scale with the generator of commit REF (extracted with
`git archive`), in the same run, for before/after figures. The large scale (4M customers) is
only rebuilt with --large; otherwise its figures are read from the record written next to
warehouse/large.duckdb when it was built.

Usage: python -m benchmarks.bench_generate [--scales demo,small] [--large] [--baseline-ref REF]
       [--seed 7] [--end 2025-12-31] [--out-dir benchmarks/out] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHECKSUMS = ROOT / "benchmarks" / "warehouse_checksums.json"
GOAL_ROWS_PER_S = 2_000_000
NAMES = {"demo": "demo", "small": "small:7"}  # keys of the checksum file, seed 7


def _time_steps() -> dict[str, list[float]]:
    """Wrap the generator's step functions (data.generate's imports) to time each one."""
    import time

    import data.generate as gen

    steps: dict[str, list[float]] = {}
    for name in dir(gen):
        fn = getattr(gen, name)
        # Containers are not wrapped (their steps are): _derive_batch runs the SQL steps;
        # _stage_batch (numpy simulation and staging) is timed whole.
        skip = ("generate", "make_config", "_derive_batch", "simulate", "generate_customers")
        if not callable(fn) or name.startswith("__") or name in skip:
            continue
        if getattr(fn, "__module__", "").startswith("data.") and isinstance(fn, type(_child)):

            def timed(*a: Any, _fn: Any = fn, _name: str = name, **k: Any) -> Any:
                t0, c0 = time.perf_counter(), time.process_time()
                try:
                    return _fn(*a, **k)
                finally:
                    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                    got = steps.setdefault(_name, [0.0, 0.0])
                    got[0] += wall
                    got[1] += cpu

            setattr(gen, name, timed)
    return steps


def _child(scale: str, seed: int, end: str, out: str, with_steps: bool = False) -> None:
    """Run one build in this process and print its stats as JSON on the last line."""
    import resource

    from data.build import build_warehouse

    steps = _time_steps() if with_steps else {}
    stats = build_warehouse(scale, seed, dt.date.fromisoformat(end), Path(out), progress=False)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    payload = stats.model_dump(mode="json") | {
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "file_mib": round(Path(out).stat().st_size / 2**20, 1),
        "steps": steps,
    }
    print(json.dumps(payload))


def run_build(
    scale: str,
    seed: int,
    end: str,
    out_dir: Path,
    code: Path = ROOT,
    tag: str = "",
    steps: bool = False,
) -> dict[str, Any]:
    """Build one scale in a subprocess (with the generator under `code`); return its stats."""
    out = out_dir / f"bench_{scale}{tag}.duckdb"
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", scale, "--seed", str(seed),
         "--end", end, "--child-out", str(out), *(["--steps"] if steps else [])],
        cwd=code, capture_output=True, text=True, check=False,
        env=os.environ | {"PYTHONPATH": str(code)},
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"build {scale} failed:\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def baseline_tree(ref: str) -> Path:
    """The data/ folder of a commit, extracted once under benchmarks/out."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    dest = ROOT / "benchmarks" / "out" / f"baseline-gen-{sha}"
    if not (dest / "data").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", sha, "data"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def verify(result: dict[str, Any], name: str | None) -> str:
    """'identical' / 'DIFFERENT' against the saved checksums, or why it was not checked."""
    if name is None or not CHECKSUMS.exists():
        return "not recorded"
    import duckdb

    sys.path.insert(0, str(ROOT / "scripts"))
    from warehouse_checksums import compare, table_checksums

    saved = json.loads(CHECKSUMS.read_text())
    if saved.get("duckdb") != duckdb.__version__ or name not in saved["warehouses"]:
        return "not recorded for this DuckDB"
    diffs = compare(name, table_checksums(Path(result["path"])), saved["warehouses"][name])
    return "identical" if not diffs else f"DIFFERENT ({len(diffs)} tables)"


def markdown(results: list[dict[str, Any]]) -> str:
    """Summary table plus rows per table, as markdown."""
    lines = [
        "| generator | scale | customers | rows (all tables) | seconds | rows/s | peak RSS (MiB) "
        "| file (MiB) | data vs recorded checksums |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['generator']} | {r['scale']} | {r['customers']:,} | {r['total_rows']:,} | "
            f"{r['seconds']:.1f} | {r['rows_per_second']:,.0f} | {r['peak_rss_mib']:,.0f} | "
            f"{r['file_mib']:,.0f} | {r['identical']} |"
        )
    after = [r for r in results if r["generator"] == "current"]
    tables = sorted({t for r in after for t in r["rows"]})
    lines += ["", "| table | " + " | ".join(r["scale"] for r in after) + " |",
              "|---|" + "---:|" * len(after)]  # fmt: skip
    for t in tables:
        lines.append(f"| {t} | " + " | ".join(f"{r['rows'].get(t, 0):,}" for r in after) + " |")
    lines.append("")
    for r in results:
        if r.get("steps"):
            total = r["seconds"]
            lines.append(
                f"Where the time goes ({r['scale']} customers, {total:.1f} s): wall and CPU "
                "seconds (CPU of all the build's threads; CPU near wall = one core busy) of "
                "each generator step, summed over batches:"
            )
            lines.append("")
            lines.append("| step | wall s | share | CPU s |")
            lines.append("|---|---:|---:|---:|")
            for name, (wall, cpu) in sorted(r["steps"].items(), key=lambda kv: -kv[1][0]):
                if wall >= 0.2:
                    lines.append(f"| {name} | {wall:.1f} | {wall / total:.0%} | {cpu:.1f} |")
            lines.append("")
    for r in results:
        if "floor" in r:
            f = r["floor"]
            lines.append(
                f"Write floor: copying the finished {r['scale']} tables ({f['rows']:,} rows) "
                f"into a new file with `INSERT INTO t SELECT * FROM src.t` takes "
                f"{f['seconds']:.1f} s = "
                f"{f['rows_per_second']:,.0f} rows/s; no generator can write faster than that here "
                f"(goal {GOAL_ROWS_PER_S:,} rows/s)."
            )
            lines.append("")
    lines.append(
        "Peak memory = peak resident set size of the build process "
        "(resource.getrusage ru_maxrss; includes DuckDB's in-process buffer pool)."
    )
    return "\n".join(lines)


def write_floor(source: Path, out_dir: Path) -> dict[str, Any]:
    """Rows/s of only writing the finished tables again (CREATE TABLE AS SELECT * into a new file).

    Generation has to write every row at least once, so this copy is an upper bound on any
    generator's rows/s on this machine with this storage format.
    """
    import time

    import duckdb

    from data.build import create_schema, default_memory_limit

    target = out_dir / "bench_floor.duckdb"
    target.unlink(missing_ok=True)
    conn = duckdb.connect(str(target))
    try:
        conn.execute(f"SET memory_limit = '{default_memory_limit()}'")
        conn.execute("SET preserve_insertion_order = false")
        create_schema(conn)
        conn.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
        names = [r[0] for r in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' "
            "AND NOT temporary ORDER BY table_name").fetchall()]  # fmt: skip
        t0 = time.perf_counter()
        rows = 0
        for name in names:
            conn.execute(f'INSERT INTO main."{name}" SELECT * FROM src."{name}"')
            row = conn.execute(f'SELECT count(*) FROM main."{name}"').fetchone()
            rows += int(row[0]) if row else 0
        conn.execute("CHECKPOINT")
        seconds = time.perf_counter() - t0
    finally:
        conn.close()
        target.unlink(missing_ok=True)
        target.with_name(target.name + ".wal").unlink(missing_ok=True)
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds}


def large_record() -> dict[str, Any] | None:
    """The stats written when warehouse/large.duckdb was built (None if never recorded)."""
    meta = ROOT / "warehouse" / "large.duckdb.json"
    return json.loads(meta.read_text()) if meta.exists() else None


def run(
    scales: list[str],
    seed: int = 7,
    end: str = "2025-12-31",
    out_dir: Path | None = None,
    keep: bool = False,
    baseline_ref: str | None = None,
    floor: bool = False,
) -> list[dict[str, Any]]:
    """Build every scale (and its baseline) in turn; return their stats."""
    out_dir = out_dir or ROOT / "benchmarks" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for scale in scales:
        variants: list[tuple[str, Path, str]] = [("current", ROOT, "")]
        if baseline_ref:
            variants.insert(0, (f"before ({baseline_ref})", baseline_tree(baseline_ref), "-base"))
        for label, code, tag in variants:
            print(f"building {scale} with the {label} generator ...", file=sys.stderr, flush=True)
            last = floor and label == "current" and scale == scales[-1]
            r = run_build(scale, seed, end, out_dir, code, tag, steps=last)
            r["generator"] = label
            r["identical"] = verify(r, NAMES.get(scale) if seed == 7 else None)
            print(f"  {r['seconds']:.1f}s, {r['total_rows']:,} rows, {r['identical']}",
                  file=sys.stderr, flush=True)  # fmt: skip
            if floor and label == "current" and scale == scales[-1]:
                print("  measuring the write floor ...", file=sys.stderr, flush=True)
                r["floor"] = write_floor(Path(r["path"]), out_dir)
            results.append(r)
            if not keep:
                Path(r["path"]).unlink(missing_ok=True)
    return results


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the benchmark and print a markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--large", action="store_true", help="also build the large scale")
    ap.add_argument("--scales", default="demo,small", help="comma-separated scales to build")
    ap.add_argument("--baseline-ref", help="also build with the generator of this commit")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--end", default="2025-12-31")
    ap.add_argument("--out-dir", default=str(ROOT / "benchmarks" / "out"))
    ap.add_argument("--keep", action="store_true", help="keep the built warehouse files")
    ap.add_argument("--floor", action="store_true", help="also time re-writing the last build")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-out", help=argparse.SUPPRESS)
    ap.add_argument("--steps", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child, args.seed, args.end, args.child_out, args.steps)
        return 0
    scales = [s for s in args.scales.split(",") if s]
    if args.large and "large" not in scales:
        scales.append("large")
    results = run(
        scales, args.seed, args.end, Path(args.out_dir), args.keep, args.baseline_ref, args.floor
    )
    print(markdown(results))
    record = large_record()
    if record and "large" not in scales:
        print(
            f"\nLarge (not rebuilt in this run; record of the build of warehouse/large.duckdb, "
            f"generator {record.get('generator', '?')}): {record['total_rows']:,} rows in "
            f"{record['seconds']:,.0f} s = {record['rows_per_second']:,.0f} rows/s, peak RSS "
            f"{record['peak_rss_mib']:,} MiB, file {record['file_mib']:,} MiB. "
            f"{record.get('note', '')}"
        )
    return 0


if __name__ == "__main__":
    if "--child" not in sys.argv:  # a child imports the generator from its PYTHONPATH only
        sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
