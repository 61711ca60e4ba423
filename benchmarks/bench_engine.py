"""Engine latency (plan + compile, guard) and warm end-to-end ask(), before and after, same run.

Every eval case (follow-ups included: their history is replayed first, untimed) is planned and
compiled `--repeat` times; ask() runs warm on the demo warehouse and, unless --quick, on the
large one. Each variant runs in its own subprocess (benchmarks/_engine_child.py):

* `before`: the code of `--baseline-ref` (default: the commit this work started from),
  extracted with `git archive`, on pure-Python sqlglot, the setup that commit shipped with;
* `after (pure sqlglot)`: the working tree on pure-Python sqlglot (the code changes alone);
* `after`: the working tree as installed (with sqlglotc's compiled parser when present).

The variants run `--rounds` times, alternating their order, and each variant's samples are pooled:
the machine is shared, and a busy spell should weigh on every variant alike.

Run: python -m benchmarks.bench_engine [--quick] [--repeat N] [--rounds R] [--baseline-ref REF]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._common import LARGE, OUT_DIR, ROOT, fmt_ms, header_line, log, p50, pct, table

BASELINE_REF = "5f0d432"  # the commit before the performance work of issue 8
CHILD = Path(__file__).resolve().parent / "_engine_child.py"
GOAL_PLAN_P95_MS = 5.0
GOAL_ASK_P95_MS = 50.0
GOAL_LARGE_ASK_P95_MS = 150.0  # issue 19: warm ask() on the large warehouse
LARGE_SETTINGS = {"query_timeout_ms": 600_000, "memory_limit": "6GB"}


def eval_cases() -> list[dict[str, Any]]:
    """Every eval case's inputs, as plain JSON values."""
    from evals.cases import load_cases

    cases = load_cases([ROOT / "evals" / "cases"])
    return [
        {
            "name": c.name,
            "question": c.inputs.question,
            "as_of": c.inputs.as_of.isoformat(),
            "account": c.inputs.account,
            "history": list(c.inputs.history),
        }
        for c in cases
    ]


def baseline_tree(ref: str) -> Path:
    """The app/ and data/ folders of a commit, extracted once under benchmarks/out."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    dest = OUT_DIR / f"baseline-{sha}"
    if not (dest / "app").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", sha, "app", "data"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def pure_sqlglot() -> Path:
    """A copy of the installed sqlglot without sqlglotc's compiled modules (pure Python)."""
    import sqlglot

    src = Path(sqlglot.__file__).parent
    dest = OUT_DIR / f"pure-sqlglot-{sqlglot.__version__}"
    if not (dest / "sqlglot").is_dir():
        shutil.copytree(src, dest / "sqlglot", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    return dest


def run_variant(
    code: Path, spec: dict[str, Any], pure: bool, child: Path = CHILD
) -> dict[str, Any]:
    """Run a child script (the engine's by default) against one code tree; its measurements."""
    path = [str(pure_sqlglot())] if pure else []
    env = {"PYTHONPATH": ":".join([*path, str(code)])}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    try:
        proc = subprocess.run(
            [sys.executable, str(child), f.name],
            cwd=tempfile.gettempdir(),
            capture_output=True,
            text=True,
            check=False,
            env=_env(env),
        )
    finally:
        Path(f.name).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child {child.name} failed ({code}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _env(extra: dict[str, str]) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERLENS_")}
    return env | extra


def _row(name: str, r: dict[str, Any], key: str, goal: float | None = None) -> list[str]:
    """One table row: n, wall p50/p95, CPU p50/p95 (when measured), goal verdict."""
    wall, cpu = r.get(f"{key}_ms") or [], r.get(f"{key}_cpu_ms") or []
    if not wall:
        return [name, "0", "", "", "", "", ""]
    row = [name, str(len(wall)), fmt_ms(p50(wall)), fmt_ms(pct(wall, 0.95))]
    row += [fmt_ms(p50(cpu)), fmt_ms(pct(cpu, 0.95))] if cpu else ["", ""]
    if goal is None:
        row.append("")
    else:
        verdict = "met" if pct(wall, 0.95) <= goal else "not met"
        if cpu:
            verdict += f" (CPU: {'met' if pct(cpu, 0.95) <= goal else 'not met'})"
        row.append(verdict)
    return row


def merge(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """Two runs of one variant as one: samples pooled, status counts added, the rest the first's."""
    out = dict(into)
    for key, value in more.items():
        if key not in out:
            out[key] = value
        elif isinstance(value, list) and key != "gc_collections":
            out[key] = [*out[key], *value]
        elif isinstance(value, dict):
            out[key] = {k: out[key].get(k, 0) + n for k, n in value.items()} | {
                k: n for k, n in out[key].items() if k not in value
            }
    return out


def run(
    quick: bool = False, repeat: int = 2, baseline_ref: str = BASELINE_REF, rounds: int = 3
) -> str:
    """Run every variant (``rounds`` times, alternating) and return the markdown section."""
    from evals.warehouses import ensure_warehouse

    cases = eval_cases()
    demo = ensure_warehouse("demo")
    spec = {"warehouse": str(demo), "cases": cases, "repeat": repeat, "ask_repeat": repeat}
    variants: list[tuple[str, Path, bool]] = [
        (f"before ({baseline_ref})", baseline_tree(baseline_ref), True),
        ("after, pure-Python sqlglot", ROOT, True),
    ]
    if _sqlglotc_installed():
        variants.append(("after, sqlglotc", ROOT, False))
    results: dict[str, dict[str, Any]] = {}
    for i in range(rounds):  # alternate, so that a busy spell on a shared machine hits all alike
        for name, code, pure in variants if i % 2 == 0 else variants[::-1]:
            log(f"engine benchmark: {name}, round {i + 1} of {rounds} ...")
            results[name] = merge(results.get(name, {}), run_variant(code, spec, pure))
    large: dict[str, Any] | None = None
    if not quick and LARGE.exists():
        log("engine benchmark: ask() on the large warehouse ...")

        large = run_variant(ROOT, _large_spec(cases), pure=not _sqlglotc_installed())
    same = _cases_at(baseline_ref)
    had = [c["name"] in same for c in cases]
    for r in results.values():  # the samples of the questions both variants had, by case order
        for key in ("plan_compile_ms", "plan_compile_cpu_ms", "plan_ms", "plan_cpu_ms"):
            r[f"same_{key}"] = [x for k, x in enumerate(r[key]) if had[k % len(cases)]]
    (OUT_DIR / "engine.json").write_text(json.dumps({"results": results, "large": large}))
    n_same = sum(had)
    return markdown(results, large, len(cases), repeat * rounds, rounds, (baseline_ref, n_same))


def _large_spec(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """The large warehouse's run: the SQL benchmark's questions, asked warm three times each."""
    from benchmarks.bench_sql import CASES as LARGE_CASES

    return {
        "warehouse": str(LARGE),
        "cases": [c for c in cases if c["name"] in LARGE_CASES],
        "stages": False,
        "ask_repeat": 3,
        "settings": LARGE_SETTINGS,
    }


def _cases_at(ref: str) -> set[str]:
    """The names of the eval cases at a commit (the questions a before/after pair both had)."""
    import yaml

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout

    names: set[str] = set()
    for path in git("ls-tree", "--name-only", ref, "evals/cases/").split():
        if path.endswith((".yaml", ".yml")):
            data = yaml.safe_load(git("show", f"{ref}:{path}")) or []
            names.update(c["name"] for c in (data if isinstance(data, list) else data["cases"]))
    return names


def _sqlglotc_installed() -> bool:
    from sqlglot import tokens

    return bool(getattr(tokens, "SQLGLOTC_INSTALLED", False))


def markdown(
    results: dict[str, dict[str, Any]],
    large: dict[str, Any] | None,
    n_cases: int,
    repeat: int,
    rounds: int = 1,
    same: tuple[str, int] | None = None,
) -> str:
    """The engine section of the report (``same``: the baseline ref and how many cases it had)."""
    head = ["variant", "measure", "n", "wall p50", "wall p95", "CPU p50", "CPU p95", "goal"]
    rows = []
    for name, r in results.items():
        for label, key, goal in (
            ("plan + compile", "plan_compile", GOAL_PLAN_P95_MS),
            ("plan + compile, first time", "cold_plan_compile", GOAL_PLAN_P95_MS),
            ("plan + compile, questions both had", "same_plan_compile", None),
            ("  plan, questions both had", "same_plan", None),
            ("  plan", "plan", None),
            ("  compile", "compile", None),
            ("  compile, first time", "cold_compile", None),
            ("guard (check + re-verify)", "guard", None),
            ("guard, first time", "cold_guard", None),
            ("ask() warm, demo", "ask", GOAL_ASK_P95_MS),
        ):
            rows.append([name, *_row(label, r, key, goal)])
    if large is not None:
        rows.append(["after", *_row("ask() warm, large", large, "ask", GOAL_LARGE_ASK_P95_MS)])
        rows.append(["after", *_row("  of which DuckDB execute", large, "execute")])
    first, last = next(iter(results.values())), list(results.values())[-1]
    ratios = []
    for measure, key in (
        ("plan + compile, wall", "plan_compile_ms"),
        ("plan + compile, CPU", "plan_compile_cpu_ms"),
        ("plan + compile first time, CPU", "cold_plan_compile_cpu_ms"),
        ("plan + compile, questions both had, CPU", "same_plan_compile_cpu_ms"),
        ("plan, questions both had, CPU", "same_plan_cpu_ms"),
        ("guard, CPU", "guard_cpu_ms"),
        ("guard first time, CPU", "cold_guard_cpu_ms"),
        ("ask() warm, demo, wall", "ask_ms"),
    ):
        if not (first.get(key) and last.get(key)):
            continue
        a, b = first[key], last[key]
        ratios.append(
            [measure, fmt_ms(p50(a)), fmt_ms(p50(b)), f"{p50(a) / p50(b):.1f}x",
             fmt_ms(pct(a, 0.95)), fmt_ms(pct(b, 0.95)), f"{pct(a, 0.95) / pct(b, 0.95):.1f}x"]
        )  # fmt: skip
    names = list(results)
    parts = [
        f"{n_cases} eval cases (follow-ups replayed, final question timed) x {repeat} runs each, "
        "after one warm-up pass; each variant in its own process on the same machine, same run"
        + (
            f", in {rounds} rounds that alternate the variants' order (samples pooled) so that a "
            "busy spell on the shared machine weighs on every variant alike. "
            if rounds > 1
            else ". "
        )
        + "`first time` rows: one pass per round with the caches of parsed SQL (query skeletons "
        "before issue "
        "13, semantic-model fragments after it: app/sql/compile/sqlbuild.py) and of verified SQL "
        "(app/sql/guard/checks.py), and since issue 17 of typo checks (app/understand/typos) "
        "emptied before every question, "
        "i.e. a question whose shape nobody asked before. Wall = elapsed time; CPU = this "
        "thread's CPU time (time.thread_time), which the other processes sharing the machine "
        "inflate far less than wall time. ask() is wall time only (DuckDB uses its own threads)."
        + (
            f" `questions both had`: the {same[1]} cases that existed at {same[0]}, so that both "
            "variants time the same questions (cases added since are often long questions the "
            "old engine refused after a few readers)."
            if same
            else ""
        ),
        "",
        table(head, rows, "llrrrrrl"),
        "",
        f"Speed-up, `{names[0]}` → `{names[-1]}`:",
        "",
        table(
            ["measure", "p50 before", "p50 after", "ratio", "p95 before", "p95 after", "ratio"],
            ratios,
        ),
    ]
    if large is not None:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(large["statuses"].items()))
        n = len(large["ask_ms"])
        parts += [
            "",
            f"Large warehouse: the {n // 3} cases of section 3, 3 warm runs each; answers by "
            f"status ({n} asks): {statuses}. Settings for large: {LARGE_SETTINGS}.",
        ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Entry point: print the engine section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the large warehouse")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each case per round")
    ap.add_argument("--baseline-ref", default=BASELINE_REF)
    ap.add_argument(
        "--rounds", type=int, default=3, help="run the variants this many times, alternating"
    )
    ap.add_argument(
        "--large-only", action="store_true", help="only warm ask() on the large warehouse"
    )
    args = ap.parse_args(argv)
    print(header_line("Engine benchmark"))
    print()
    if args.large_only:
        print(large_only())
        return 0
    print(run(args.quick, args.repeat, args.baseline_ref, args.rounds))
    return 0


def large_only() -> str:
    """Warm ask() on the large warehouse alone (the working tree), as `run` measures it."""
    if not LARGE.exists():
        return f"No large warehouse at {LARGE}: build it first (benchmarks/run_all.py does)."
    spec = _large_spec(eval_cases())
    large = run_variant(ROOT, spec, pure=not _sqlglotc_installed())
    n = len(spec["cases"])
    per_case = [(p50(large["ask_ms"][i::n]), c["question"]) for i, c in enumerate(spec["cases"])]
    slowest = sorted(per_case, reverse=True)[:8]
    rows = [
        ["after", *_row("ask() warm, large", large, "ask", GOAL_LARGE_ASK_P95_MS)],
        ["after", *_row("  of which DuckDB execute", large, "execute")],
    ]
    head = ["variant", "measure", "n", "wall p50", "wall p95", "CPU p50", "CPU p95", "goal"]
    slow = table(["question", "median ms"], [[q, fmt_ms(ms)] for ms, q in slowest])
    return (
        f"{n} questions x 3 runs, warm.\n\n{table(head, rows)}\n\nThe slowest questions:\n\n" + slow
    )


if __name__ == "__main__":
    raise SystemExit(main())
