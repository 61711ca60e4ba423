"""The report's data: one JSON-ready record per case, and the figures computed from them.

`build_report` gives the document `--json` writes (documented in `evals/README.md`); the Markdown
and HTML reports, the gate and the baseline are all made from it. Accuracy figures leave out the
plumbing scenarios (cases tagged `plumbing`, run by scripted models): they prove wiring only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from evals.baseline import SCHEMA_VERSION, current_inputs, display_path, warehouse_inputs
from evals.cases import case_files
from evals.run import CASES_DIR, CaseResult, Runner
from evals.scorers import Status

STATUSES: tuple[Status, ...] = ("pass", "wrong", "missed", "hallucinated", "error")
_DECLINED = ("refused", "rejected", "clarify")
"""Answer statuses that present no number: the refusals a live report counts."""
STAGES = ("understand_ms", "compile_ms", "guard_ms", "execute_ms", "explain_ms", "total_ms")


def _plain(value: Any) -> Any:
    """A JSON-ready scalar: numbers, strings, booleans and null as they are, others as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal | date | datetime):
        return str(value)
    return repr(value)


def path_of(backend: str) -> str:
    """The report's path for an Answer's backend: engine, agent or sql."""
    if backend.startswith("llm"):
        return "agent"
    return "sql" if backend.startswith("sql") else backend


def case_record(
    result: CaseResult, backend: str, known_failures: Mapping[str, str]
) -> dict[str, Any]:
    """One case as the report's JSON record."""
    case, answer = result.case, result.answer
    diff = result.first_diff
    usage = answer.llm if answer is not None else None
    answered = answer is not None and answer.status == "answered"
    attempted = answer is not None and (
        answer.status in ("answered", "rejected") or (answer.status == "error" and answer.sql)
    )
    return {
        "id": result.id,
        "status": result.status,
        "reasons": list(result.reasons),
        "expect": case.expected.outcome if case else None,
        "latency_ms": result.latency_ms,
        "sql": answer.sql if answer else None,
        "tokens": usage.prompt_tokens + usage.completion_tokens if usage else None,
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "cached_tokens": usage.cached_tokens if usage else None,
        "llm_calls": usage.calls if usage else None,
        "prompt_sha256": dict(usage.prompts) if usage else {},
        "cost_usd": _plain(usage.cost_usd) if usage else None,
        "error": result.error,
        "detail": result.detail,
        "first_diff": None
        if diff is None
        else {
            "row": diff.row,
            "column": diff.column,
            "expected": _plain(diff.expected),
            "actual": _plain(diff.actual),
            "currency": diff.currency,
        },
        "file": display_path(result.source) if result.source else None,
        "question": case.inputs.question if case else None,
        "tags": list(case.tags) if case else [],
        "difficulty": case.difficulty if case else None,
        "path": path_of(answer.backend) if answer else path_of(backend),
        "warehouses": list(result.answers),
        "answer_status": answer.status if answer else None,
        "headline": answer.headline if answer else None,
        "valid_sql": answered if attempted else None,
        "numbers_verified": answer.numbers_verified if answered and answer else None,
        "stages": answer.timings.model_dump() if answer else {},
        "known_failure": known_failures.get(result.id),
        "plumbing": bool(case and "plumbing" in case.tags),
        "runs": list(result.runs),
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 3)


def _mean(values: Sequence[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summarize(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts per status, execution accuracy and the other rates, latency, tokens and cost."""
    rows = [r for r in records if not r["plumbing"]]
    out: dict[str, Any] = {"cases": len(rows)}
    for status in STATUSES:
        out[status] = sum(r["status"] == status for r in rows)
    answerable = [r for r in rows if r["expect"] == "answer"]
    declines = [r for r in rows if r["expect"] in ("refusal", "clarification")]
    attempts = [r["valid_sql"] for r in rows if r["valid_sql"] is not None]
    verified = [r["numbers_verified"] for r in rows if r["numbers_verified"] is not None]
    latencies = [r["latency_ms"] for r in rows if r["latency_ms"] is not None]
    runs = [r["runs"] for r in rows if r["runs"]]
    costs = [Decimal(r["cost_usd"]) for r in rows if r["cost_usd"] is not None]
    used = [r for r in rows if r.get("prompt_tokens") is not None]
    out.update(
        answerable=len(answerable),
        execution_accuracy=_ratio(sum(r["status"] == "pass" for r in answerable), len(answerable)),
        refusal_cases=len(declines),
        refusals_ok=_ratio(sum(r["status"] == "pass" for r in declines), len(declines)),
        valid_sql_rate=_ratio(sum(attempts), len(attempts)),
        numbers_verified=_ratio(sum(verified), len(verified)),
        latency_ms_p50=percentile(latencies, 50),
        latency_ms_p95=percentile(latencies, 95),
        known_failures=sum(bool(r["known_failure"]) for r in rows),
        refused=sum(r["answer_status"] in _DECLINED for r in rows),
        presented_wrong=sum(
            r["answer_status"] == "answered" and r["status"] != "pass" for r in rows
        ),
        prompt_tokens_per_question=_mean([r["prompt_tokens"] for r in used]),
        cached_tokens_per_question=_mean([r["cached_tokens"] or 0 for r in used]),
        tokens=sum(r["tokens"] or 0 for r in rows) if any(r["tokens"] for r in rows) else None,
        cost_usd=str(sum(costs)) if costs else None,
        repeat=max((len(r) for r in runs), default=1),
        pass_at_1=_ratio(sum(run.count("pass") for run in runs), sum(len(run) for run in runs)),
        pass_hat_k=_ratio(sum(all(s == "pass" for s in run) for run in runs), len(runs)),
    )
    return out


def prompts_used(records: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Prompt name → the SHA-256s the answers report having used (live and replayed runs)."""
    used: dict[str, set[str]] = defaultdict(set)
    for r in records:
        for name, sha in (r.get("prompt_sha256") or {}).items():
            used[name].add(sha)
    return {name: sorted(shas) for name, shas in sorted(used.items())}


def _breakdown(records: Sequence[Mapping[str, Any]], keys: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in records:
        values = r[keys] if isinstance(r[keys], list) else [r[keys]]
        for value in values:
            groups[str(value)].append(r)
    out = {}
    for name in sorted(groups):
        s = summarize(groups[name])
        out[name] = {k: s[k] for k in ("cases", *STATUSES, "answerable", "execution_accuracy")}
    return out


def build_report(
    results: Sequence[CaseResult],
    inputs: Mapping[str, Any],
    run: Mapping[str, Any],
    *,
    baseline: Mapping[str, Any] | None = None,
    known_failures: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The full report document (what `--json` writes), without the gate's verdict."""
    records = [case_record(r, run["backend"], known_failures or {}) for r in results]
    accuracy = [r for r in records if not r["plumbing"]]
    paths = sorted({r["path"] for r in accuracy})
    old_prompts = (baseline or {}).get("inputs", {}).get("prompts", {})
    prompts = [
        {
            "name": name,
            **spec,
            "baseline_version": old_prompts.get(name, {}).get("version"),
            "baseline_sha256": old_prompts.get(name, {}).get("sha256"),
            "baseline_tokens": old_prompts.get(name, {}).get("tokens"),
        }
        for name, spec in sorted(inputs["prompts"].items())
    ]
    # A stage's latency counts the answers that reached it (a refusal never compiles).
    stage_values = {s: [r["stages"][s] for r in accuracy if r["stages"].get(s)] for s in STAGES}
    return {
        "schema_version": SCHEMA_VERSION,
        "run": dict(run),
        "inputs": dict(inputs),
        "summary": summarize(records),
        "by_path": {p: summarize(r for r in records if r["path"] == p) for p in paths},
        "by_tag": _breakdown(accuracy, "tags"),
        "by_difficulty": _breakdown([r for r in accuracy if r["difficulty"]], "difficulty"),
        "by_file": _breakdown([r for r in accuracy if r["file"]], "file"),
        "stages": {
            s: {"p50": percentile(v, 50), "p95": percentile(v, 95)} for s, v in stage_values.items()
        },
        "prompts": prompts,
        "prompts_used": prompts_used(accuracy),
        "gate": None,
        "cases": records,
    }


def run_metadata(**fields: Any) -> dict[str, Any]:
    """Run metadata with every key the reports read; the CLI fills in the real values."""
    defaults: dict[str, Any] = {
        "id": "unnamed",
        "started": None,
        "git_commit": None,
        "git_dirty": False,
        "mode": "offline",
        "backend": "engine",
        "model": None,
        "base_url_host": None,
        "temperature": None,
        "repeat": 1,
        "jobs": 1,
        "paths": [display_path(CASES_DIR)],
        "keyword": None,
        "sample": None,
        "only": None,
        "warehouse": None,
        "full_suite": False,
        "wall_s": None,
        "libraries": {},
    }
    unknown = set(fields) - set(defaults)
    if unknown:
        raise ValueError(f"unknown run metadata {sorted(unknown)}")
    return {**defaults, **fields}


def inputs_for(
    runner: Runner,
    cases: Iterable[Any],
    paths: Sequence[Path] = (CASES_DIR,),
    *,
    prompts_dir: Path | None = None,
) -> dict[str, Any]:
    """The inputs of a run: the case files under `paths`, the warehouses the cases used."""
    names = {w for case in cases for w in runner.warehouses_for(case)}
    return current_inputs(
        case_files(paths),
        warehouse_inputs(names, runner.warehouse),
        runner.semantic_sha256,
        prompts_dir=prompts_dir,
    )
