"""`ledgerlens eval`: run eval cases, write the reports, apply the regression gate.

Exit codes: 0 the gate passed (or, with no baseline applied, every case passed; live runs are
advisory and exit 0); 1 the gate failed (or a case failed with no baseline applied); 2 the run
could not start (bad flags, no cases, no warehouse, backend unavailable, live without a model).
"""

from __future__ import annotations

import argparse
import subprocess
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.core.errors import AssistantError
from app.core.settings import Settings
from app.llm.local import use_local_llm
from app.run.options import add_engine_arguments, apply_engine, export_source
from evals.backends import BACKENDS, BackendUnavailable, make_backend
from evals.baseline import (
    BASELINE,
    ROOT,
    BaselineError,
    baseline_from_report,
    display_path,
    dumps,
    load_json,
    write_baseline,
)
from evals.cases import Case, InvalidCase, load_cases_lenient
from evals.gate import check_gate
from evals.report import render_html, render_markdown
from evals.run import CASES_DIR, CaseResult, Runner, invalid_result
from evals.sample import SampleError, load_sample, select_sample
from evals.select import KeywordError, parse_keyword
from evals.summary import build_report, inputs_for, run_metadata

KNOWN_FAILURES = ROOT / "evals" / "known_failures.yaml"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_LIBRARIES = ("duckdb", "sqlglot", "pydantic", "langchain-core", "openai")


class _UsageError(Exception):
    """The run cannot start; the message says why."""


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_eval_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `eval` subcommand to the `ledgerlens` parser."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "eval",
        help="run the eval cases, write reports and apply the regression gate",
        description="Run eval cases through ask(), score them by executed results, write "
        "reports and check them against the accepted baseline (see evals/README.md).",
    )
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="case files or directories (default: evals/cases/)",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        help="what answers: engine (default), agent, or auto (router); agent with --live",
    )
    p.add_argument(
        "--warehouse", type=Path, help="run every case on this DuckDB file instead of its list"
    )
    p.add_argument("--baseline", type=Path, help="baseline JSON to gate against or to update")
    p.add_argument("--report", type=Path, metavar="FILE.md", help="write a Markdown report")
    p.add_argument("--html", type=Path, metavar="FILE.html", help="write an HTML report")
    p.add_argument("--json", type=Path, metavar="FILE.json", help="write the JSON report")
    p.add_argument("--live", action="store_true", help="use the configured model (advisory)")
    p.add_argument("--record", action="store_true", help="with --live: also write cassettes")
    p.add_argument("--repeat", type=_positive, default=1, metavar="K", help="run each case K times")
    p.add_argument(
        "--update-baseline", action="store_true", help="write the baseline from this run"
    )
    p.add_argument("-k", dest="keyword", metavar="EXPR", help="select cases: 'tax and not fx'")
    p.add_argument("--jobs", type=_positive, default=1, metavar="N", help="cases run in N threads")
    p.add_argument(
        "--sample",
        type=Path,
        metavar="FILE.yaml",
        help="run the cases a sample file names, in its order (evals/live_sample.yaml)",
    )
    p.add_argument(
        "--limit", type=_positive, metavar="N", help="run only the first N selected cases"
    )
    p.add_argument(
        "--on",
        metavar="NAME",
        help="run each case only on this pinned warehouse when it lists it (e.g. demo)",
    )
    add_engine_arguments(p)
    return p


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _libraries() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _select(
    args: argparse.Namespace, cases: list[Case], invalid: list[InvalidCase]
) -> tuple[list[Case], list[InvalidCase]]:
    if args.sample is not None:
        cases = select_sample(cases, load_sample(args.sample))
    if args.limit is not None:
        cases = cases[: args.limit]
    if not args.keyword:
        return cases, invalid
    matches = parse_keyword(args.keyword)
    chosen = [
        c
        for c in cases
        if matches([c.name, *c.tags, c.difficulty, c.source.stem if c.source else ""])
    ]
    return chosen, [i for i in invalid if matches([i.name, i.file.stem])]


def _run(runner: Runner, cases: list[Case], jobs: int, err: Console) -> list[CaseResult]:
    if not err.is_terminal:
        return runner.run(cases, jobs=jobs)
    columns = (
        TextColumn("eval"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failing]} not passing"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("eval", total=len(cases), failing=0)
        failing = 0

        def advance(result: CaseResult) -> None:
            nonlocal failing
            failing += result.status != "pass"
            bar.update(task, advance=1, failing=failing)

        return runner.run(cases, jobs=jobs, progress=advance)


def _known_failures(default_suite: bool) -> dict[str, str]:
    if not default_suite or not KNOWN_FAILURES.exists():
        return {}
    return {str(k): str(v) for k, v in (yaml.safe_load(KNOWN_FAILURES.read_text()) or {}).items()}


def _write(path: Path | None, text: str, written: list[str]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    written.append(display_path(path))


def _default_baseline(backend: str, live: bool, model: str | None) -> Path:
    """evals/baseline.json for the offline engine; evals/baselines/<kind>.json otherwise."""
    if backend == "engine" and not live:
        return BASELINE
    kind = f"live-{backend}" if live else f"replay-{backend}"
    return ROOT / "evals" / "baselines" / f"{kind}-{model}.json"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def _headline(report: dict[str, Any]) -> list[str]:
    run, s = report["run"], report["summary"]
    names = ", ".join(sorted(report["inputs"]["warehouses"])) or "no warehouse"
    ex = "—" if s["execution_accuracy"] is None else f"{s['execution_accuracy']:.1%}"
    lines = [
        f"{s['cases']} cases ({run['backend']}, {run['mode']}) on {names} in {run['wall_s']:.1f} s "
        f"with {run['jobs']} job(s).",
        f"pass {s['pass']} · wrong {s['wrong']} · missed {s['missed']} · hallucinated "
        f"{s['hallucinated']} · error {s['error']} · execution accuracy {ex} of "
        f"{s['answerable']} answerable · latency p50 {_ms(s['latency_ms_p50'])}, p95 "
        f"{_ms(s['latency_ms_p95'])}",
    ]
    if s["repeat"] > 1:
        lines.append(f"repeat {s['repeat']}: pass@1 {s['pass_at_1']}, pass^k {s['pass_hat_k']}")
    if s["prompt_tokens_per_question"] is not None:
        lines.append(
            f"refused {s['refused']} · wrong answer presented {s['presented_wrong']} · prompt "
            f"tokens per question {s['prompt_tokens_per_question']:,.0f}, cached "
            f"{s['cached_tokens_per_question']:,.0f}"
        )
    used = report.get("prompts_used") or {}
    if used:
        lines.append(
            "prompts used: "
            + ", ".join(f"{n} {'/'.join(h[:12] for h in hs)}" for n, hs in used.items())
        )
    return lines


def run_eval(args: argparse.Namespace) -> int:
    """Run `ledgerlens eval` with parsed arguments; returns the exit code."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    started = datetime.now(UTC)  # allowed-clock: the report's run timestamp and cassette date
    settings = apply_engine(Settings(), args)
    if args.live:
        settings = use_local_llm(settings)  # LEDGERLENS_LLM=local: start or reuse the server
    args.warehouse = args.warehouse or export_source(settings)  # Spark: the export's source
    backend_name = args.backend or ("agent" if args.live else "engine")
    default_suite = not args.paths and args.warehouse is None
    subset = bool(args.keyword or args.sample or args.limit or args.on)
    full_suite = default_suite and not subset and not args.live
    model = settings.llm_model if backend_name != "engine" else None
    baseline_path = args.baseline or _default_baseline(backend_name, args.live, model)
    try:
        if args.update_baseline and (args.keyword or args.sample or args.limit):
            raise _UsageError("--update-baseline needs every case; drop -k, --sample and --limit.")
        if args.update_baseline and baseline_path.resolve() == BASELINE and not full_suite:
            raise _UsageError(
                "evals/baseline.json is the offline baseline of evals/cases/ on the pinned "
                "warehouses; give --baseline FILE for this run."
            )
        backend = make_backend(
            backend_name,
            settings,
            live=args.live,
            record=args.record,
            recorded_on=started.date(),
        )
        if args.warehouse is not None and not args.warehouse.is_file():
            raise _UsageError(f"No warehouse file at {args.warehouse}.")
        paths = list(args.paths) or [CASES_DIR]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise _UsageError(f"No such case file or directory: {', '.join(missing)}.")
        cases, invalid = _select(args, *load_cases_lenient(paths))
        if not cases and not invalid:
            selection = f" match -k {args.keyword!r}" if args.keyword else ""
            raise _UsageError(f"No cases{selection} to run.")
    except (_UsageError, BackendUnavailable, KeywordError, SampleError) as problem:
        err.print(f"eval: {problem}", markup=False)
        return EXIT_USAGE
    for bad in invalid:
        err.print(f"invalid case: {bad.message}", markup=False)
    runner = Runner(
        settings, backend=backend, warehouse=args.warehouse, repeat=args.repeat, only=args.on
    )
    clock = time.perf_counter()
    try:  # a missing or broken warehouse, semantic model or prompt file stops the run
        results = _run(runner, cases, args.jobs, err) + [invalid_result(i) for i in invalid]
        wall_s = round(time.perf_counter() - clock, 3)
        inputs = inputs_for(runner, cases, paths)
    except AssistantError as problem:
        err.print(f"eval: {problem}", markup=False)
        return EXIT_USAGE
    finally:
        runner.close()
    baseline = None
    if baseline_path.exists():
        try:
            baseline = load_json(baseline_path, "baseline")
        except BaselineError as problem:
            err.print(f"eval: {problem}", markup=False)
            return EXIT_USAGE
    host = urlparse(settings.llm_base_url).hostname if settings.llm_base_url else None
    run = run_metadata(
        id=started.strftime("%Y%m%dT%H%M%SZ"),
        started=started.strftime("%Y-%m-%d %H:%M:%S"),
        git_commit=_git("rev-parse", "HEAD"),
        git_dirty=bool(_git("status", "--porcelain", "--untracked-files=no")),
        mode="live" if args.live else "offline",
        backend=backend_name,
        model=model,
        base_url_host=host if args.live else None,
        temperature=0 if model else None,
        repeat=args.repeat,
        jobs=args.jobs,
        paths=[display_path(p) for p in paths],
        keyword=args.keyword,
        sample=display_path(args.sample) if args.sample else None,
        only=args.on,
        warehouse=display_path(args.warehouse) if args.warehouse else None,
        full_suite=full_suite,
        wall_s=wall_s,
        libraries=_libraries(),
    )
    report = build_report(
        results, inputs, run, baseline=baseline, known_failures=_known_failures(default_suite)
    )
    gate = None
    if not args.update_baseline and (args.baseline is not None or default_suite):
        gate = check_gate(
            baseline,
            report,
            partial=subset,
            baseline_name=display_path(baseline_path),
        )
        report["gate"] = gate.to_dict()
    written: list[str] = []
    _write(args.json, dumps(report), written)
    _write(args.report, render_markdown(report), written)
    _write(args.html, render_html(report), written)
    for line in _headline(report):
        print(line)
    if written:
        print("Reports: " + ", ".join(written))
    if args.update_baseline:
        write_baseline(baseline_path, baseline_from_report(report))
        print(f"Baseline written: {display_path(baseline_path)}")
        return EXIT_OK
    if gate is not None:
        print("\n".join(gate.lines()))
        return EXIT_OK if gate.ok or args.live else EXIT_FAILED
    if args.live:
        return EXIT_OK
    passed = all(c["status"] == "pass" for c in report["cases"])
    return EXIT_OK if passed else EXIT_FAILED
