"""One-shot CLI start-up: `ledgerlens ask ... --json` as a whole process, against bare Python.

Three commands run N times each, alternating (pass 1: a, b, c; pass 2: a, b, c; ...) so that the
load of the shared machine falls on all of them alike:

* `python -c pass` (the interpreter alone);
* `python -c "import duckdb"` (the yardstick of the goal);
* `python -m app.cli ask "gross volume last month" --json --warehouse <demo>` (the one-shot ask).

Each is timed as a whole process (fork to exit), in wall time (the goal) and in CPU time (user +
system of the child, which the other processes sharing the machine inflate far less). One round
runs first and is discarded (bytecode, disk cache, and the CLI's parse caches in
$XDG_CACHE_HOME/ledgerlens). Then the ask runs once more with an empty cache directory, to show
what a first run after an upgrade costs.

Goal (issue 13, item 7): the ask's median ≤ 3× the median of `import duckdb`.

Run: python -m benchmarks.bench_cli [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks._common import OUT_DIR, ROOT, fmt_ms, header_line, log, p50, pct, table

GOAL_RATIO = 3.0
QUESTION = "gross volume last month"
_LLM_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "LEDGERLENS_LLM_API_KEY",
    "LEDGERLENS_LLM_BASE_URL",
)


def commands(demo: Path) -> dict[str, list[str]]:
    """The three measured commands by label."""
    ask = ["-m", "app.cli", "ask", QUESTION, "--json", "--warehouse", str(demo)]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import duckdb"': [sys.executable, "-c", "import duckdb"],
        f'ledgerlens ask "{QUESTION}" --json': [sys.executable, *ask],
    }


def _env(cache_dir: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LLM_ENV}
    env["PYTHONPATH"] = str(ROOT)
    if cache_dir is not None:
        env["XDG_CACHE_HOME"] = cache_dir
    return env


def time_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) milliseconds of one process from start to exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = (time.perf_counter() - t0) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return wall, cpu


def import_breakdown(cmd: list[str], env: dict[str, str]) -> tuple[list[tuple[str, float]], int]:
    """Self import time by top-level package of one `-X importtime` run, and the module count."""
    proc = subprocess.run(
        [cmd[0], "-X", "importtime", *cmd[1:]], cwd=ROOT, env=env, capture_output=True, text=True
    )
    by_package: Counter[str] = Counter()
    modules = 0
    for line in proc.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if found:
            modules += 1
            by_package[found.group(2).split(".")[0]] += int(found.group(1)) / 1000
    return by_package.most_common(), modules


def measure(demo: Path, runs: int) -> dict[str, Any]:
    """Alternating wall times of every command, a cold-cache ask, and the ask's imports."""
    cmds = commands(demo)
    env = _env()
    for cmd in cmds.values():  # warm-up round, discarded
        time_once(cmd, env)
    times: dict[str, list[float]] = {label: [] for label in cmds}
    cpu: dict[str, list[float]] = {label: [] for label in cmds}
    for i in range(runs):
        for label, cmd in cmds.items():
            wall_ms, cpu_ms = time_once(cmd, env)
            times[label].append(wall_ms)
            cpu[label].append(cpu_ms)
        log(f"  pass {i + 1}/{runs}: " + ", ".join(f"{v[-1]:.0f}" for v in times.values()))
    ask = list(cmds.values())[-1]
    with tempfile.TemporaryDirectory() as empty:
        cold, _ = time_once(ask, _env(empty))
    imports, modules = import_breakdown(ask, env)
    return {
        "runs": runs,
        "times_ms": times,
        "cpu_ms": cpu,
        "cold_cache_ask_ms": cold,
        "imports_ms": imports,
        "modules": modules,
    }


def ratio(result: dict[str, Any], measure: str = "times_ms") -> float:
    """Median ask wall time over median `import duckdb` wall time."""
    ask, duck = list(result[measure].values())[2], list(result[measure].values())[1]
    return float(p50(ask) / p50(duck))


def cpu_ratio(result: dict[str, Any]) -> float:
    """The same ratio in CPU time."""
    return ratio(result, "cpu_ms")


def markdown(result: dict[str, Any]) -> str:
    """Wall-time table, the ratio against the goal, and the ask's import time by package."""
    rows = [
        [f"`{label}`", fmt_ms(p50(ms)), fmt_ms(pct(ms, 0.95)), fmt_ms(min(ms)), fmt_ms(p50(cpu))]
        for (label, ms), cpu in zip(
            result["times_ms"].items(), result["cpu_ms"].values(), strict=True
        )
    ]
    r = ratio(result)
    cold = fmt_ms(result["cold_cache_ask_ms"])
    cpu = cpu_ratio(result)
    top = [[name, f"{ms:.1f}"] for name, ms in result["imports_ms"][:12]]
    total = sum(ms for _, ms in result["imports_ms"])
    return "\n".join(
        [
            f"Whole-process wall time on the demo warehouse, {result['runs']} runs of each command "
            "alternating, after one discarded warm-up round.",
            "",
            table(
                ["command", "wall median ms", "wall p95 ms", "wall min ms", "CPU median ms"], rows
            ),
            "",
            f"Ratio ask / import duckdb (medians): **{r:.2f}×** (goal ≤ {GOAL_RATIO:.0f}×: "
            f"{'met' if r <= GOAL_RATIO else 'not met'}); in CPU time {cpu:.2f}×. The ask "
            f"with an empty parse cache (first run after an upgrade): {cold} ms. Modules imported "
            f"by the ask: {result['modules']}.",
            "",
            f"Import time of the ask by top-level package (`-X importtime`, self time, one run; "
            f"{total:.0f} ms in all, inflated by the measurement):",
            "",
            table(["package", "ms"], top),
        ]
    )


def run(runs: int) -> str:
    """Measure and return the markdown section; write cli.json beside the other results."""
    from evals.warehouses import ensure_warehouse

    result = measure(ensure_warehouse("demo"), runs)
    (OUT_DIR / "cli.json").write_text(json.dumps(result, indent=1))
    return markdown(result)


def main(argv: list[str] | None = None) -> int:
    """Entry point: print the CLI start-up section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    print(header_line("One-shot CLI"))
    print()
    print(run(args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
