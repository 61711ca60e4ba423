"""Benchmark the synthetic warehouse generator: demo, small and (with --large) large.

Each build runs in its own subprocess so that its peak memory is measured in isolation: peak
memory is the build process's peak resident set size (``resource.getrusage(RUSAGE_SELF)
.ru_maxrss``), which includes DuckDB's buffer pool because DuckDB runs in-process.

Usage: python -m benchmarks.bench_generate [--large] [--seed 7] [--end 2025-12-31]
       [--out-dir benchmarks/out] [--keep] [--scales demo,small,50000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(scale: str, seed: int, end: str, out: str) -> None:
    """Run one build in this process and print its stats as JSON on the last line."""
    import resource

    sys.path.insert(0, str(ROOT))
    from data.build import build_warehouse

    stats = build_warehouse(scale, seed, dt.date.fromisoformat(end), Path(out), progress=False)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    payload = stats.model_dump(mode="json") | {
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "file_mib": round(Path(out).stat().st_size / 2**20, 1),
    }
    print(json.dumps(payload))


def run_build(scale: str, seed: int, end: str, out_dir: Path) -> dict:
    """Build one scale in a subprocess and return its stats."""
    out = out_dir / f"bench_{scale}.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_generate", "--child", scale, "--seed", str(seed),
         "--end", end, "--child-out", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"build {scale} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def markdown(results: list[dict]) -> str:
    """Summary table plus rows per table, as markdown."""
    lines = [
        "| scale | customers | rows (all tables) | seconds | rows/s | peak RSS (MiB) "
        "| file (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['scale']} | {r['customers']:,} | {r['total_rows']:,} | {r['seconds']:.1f} | "
            f"{r['rows_per_second']:,.0f} | {r['peak_rss_mib']:,.0f} | {r['file_mib']:,.0f} |"
        )
    tables = sorted({t for r in results for t in r["rows"]})
    lines += ["", "| table | " + " | ".join(r["scale"] for r in results) + " |",
              "|---|" + "---:|" * len(results)]  # fmt: skip
    for t in tables:
        lines.append(f"| {t} | " + " | ".join(f"{r['rows'].get(t, 0):,}" for r in results) + " |")
    lines.append("")
    lines.append(
        "Peak memory = peak resident set size of the build process "
        "(resource.getrusage ru_maxrss; includes DuckDB's in-process buffer pool)."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the benchmark and print a markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--large", action="store_true", help="also build the large scale")
    ap.add_argument("--scales", default="demo,small", help="comma-separated scales to build")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--end", default="2025-12-31")
    ap.add_argument("--out-dir", default=str(ROOT / "benchmarks" / "out"))
    ap.add_argument("--keep", action="store_true", help="keep the built warehouse files")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child, args.seed, args.end, args.child_out)
        return 0
    scales = [s for s in args.scales.split(",") if s]
    if args.large and "large" not in scales:
        scales.append("large")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for scale in scales:
        print(f"building {scale} ...", file=sys.stderr, flush=True)
        r = run_build(scale, args.seed, args.end, out_dir)
        print(f"  {r['seconds']:.1f}s, {r['total_rows']:,} rows", file=sys.stderr, flush=True)
        results.append(r)
        if not args.keep:
            Path(r["path"]).unlink(missing_ok=True)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
