"""Generated SQL vs the eval cases' hand-written reference SQL, timed on the same connection.

For each representative case the engine plans and compiles the question; both statements go
through the guard (tenant scoping, row cap) exactly as answers do, then run on the assistant's one
read-only connection, alternating reference / generated, after one untimed warm-up run each.
Reported: median of `--runs` runs per side, the ratio generated / reference, and the geometric mean.

Run: python -m benchmarks.bench_sql [--quick] [--runs N] [--warehouse PATH] [--cases a,b,...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    LARGE,
    OUT_DIR,
    ROOT,
    fmt_ms,
    geomean,
    header_line,
    log,
    p50,
    table,
)

GOAL_GEOMEAN, GOAL_WORST = 1.2, 2.0
# Representative answer cases: every area (payments, billing, MRR, revenue recognition, tax, FX,
# time phrases) and every plan shape (total, series, breakdown, ranking, comparison, ratio,
# balance, snapshot, customer dimension, follow-up).
CASES = (
    "pay_gross_volume_last_quarter",
    "pay_monthly_gross_volume_this_year_at_year_end",
    "pay_gross_volume_by_country_last_month",
    "pay_top_5_countries_by_gross_volume_last_year",
    "pay_gross_volume_this_month_vs_last_month_at_month_end",
    "pay_net_volume_by_reporting_category_last_month",
    "pay_stripe_fees_this_year_at_year_end",
    "pay_payment_success_rate_last_quarter",
    "pay_refund_rate_by_country_2025",
    "pay_payouts_last_month",
    "pay_successful_charges_2024_compared_to_2023",
    "bill_invoiced_by_month_h1_2025",
    "bill_accounts_receivable_year_end",
    "bill_accounts_receivable_by_customer",
    "bill_discounts_last_quarter",
    "mrr_by_month_this_year",
    "mrr_by_plan_end_of_june",
    "mrr_active_customers_end_of_2024",
    "mrr_net_new_by_month_last_quarter",
    "mrr_subscriber_churn_rate_last_quarter",
    "mrr_arpu_end_of_june",
    "mrr_growth_year_over_year_by_quarter",
    "rev_recognized_by_month_h1_2025",
    "rev_deferred_end_of_q2_2025",
    "rev_top10_customers_by_revenue_2025",
    "tax_by_jurisdiction_q3_2025",
    "tax_effective_rate_q3_2025",
    "tax_sales_tax_by_us_state_q2_2025",
    "fx_gross_volume_by_currency_usd_account_last_quarter",
    "fx_monthly_net_volume_eur_account_q1_2025",
    "time_daily_gross_volume_after_dst_end",
    "trap_ties_top_5_customers",
    "fu_and_by_country",
)
SETTINGS = {"query_timeout_ms": 600_000, "memory_limit": "6GB"}


def _load(names: tuple[str, ...]) -> list[Any]:
    from evals.cases import load_cases

    by_name = {c.name: c for c in load_cases([ROOT / "evals" / "cases"])}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise SystemExit(f"unknown eval cases: {missing}")
    return [by_name[n] for n in names]


def compiled_sql(assistant: Any, case: Any) -> Any:
    """The guarded statement the engine would run for the case's (final) question."""
    from app.core.conversation import Conversation
    from app.core.plan import QueryPlan
    from app.core.request import Request
    from app.router import Router
    from app.sql.compile import CompileContext, compile_plan
    from app.understand import EngineContext, lexicon_for, plan_question

    i = case.inputs
    conv = Conversation()
    router = Router(assistant.settings, assistant, engine_only=True)
    for q in i.history:
        router.ask(Request(q, as_of=i.as_of, account=i.account, conversation=conv))
    info = assistant.session.account_info(i.account)
    lex = lexicon_for(assistant.model, assistant.session.data_values(i.account))
    ctx = EngineContext(
        model=assistant.model, lexicon=lex, as_of=i.as_of, account=i.account, previous=conv.previous
    )
    plan = plan_question(i.question, ctx)
    if not isinstance(plan, QueryPlan):
        raise SystemExit(f"{case.name}: the engine did not plan it ({type(plan).__name__})")
    compiled = compile_plan(
        plan, CompileContext(account=info, as_of=i.as_of, model=assistant.model)
    )
    return assistant.session.guard(compiled.expression, info.id)


def _time(assistant: Any, guarded: Any) -> tuple[float, int]:
    t0 = time.perf_counter()
    result = assistant.session.executor.run(guarded)
    return (time.perf_counter() - t0) * 1000, len(result.rows)


def baseline_sql(warehouse: Path, cases: list[Any], ref: str) -> dict[str, str]:
    """The guarded SQL the compiler of commit `ref` generates for each case."""
    from benchmarks.bench_engine import baseline_tree

    code = baseline_tree(ref)
    spec = {
        "warehouse": str(warehouse),
        "cases": [
            {
                "name": c.name,
                "question": c.inputs.question,
                "as_of": c.inputs.as_of.isoformat(),
                "account": c.inputs.account,
                "history": list(c.inputs.history),
            }
            for c in cases
        ],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve().parent / "_sql_child.py"), f.name],
            cwd=tempfile.gettempdir(),
            capture_output=True,
            text=True,
            check=False,
            env=os.environ | {"PYTHONPATH": str(code)},
        )
    finally:
        Path(f.name).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise SystemExit(f"baseline compile failed:\n{proc.stderr[-3000:]}")
    result: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def measure(
    warehouse: Path, names: tuple[str, ...], runs: int, baseline_ref: str | None = None
) -> list[dict[str, Any]]:
    """Per case: reference, generated (and baseline) run times (ms), alternating, one connection."""
    from app.core.settings import Settings
    from app.pipeline.assistant import Assistant
    from app.sql.guard.checks import Guarded

    cases = _load(names)
    before = baseline_sql(warehouse, cases, baseline_ref) if baseline_ref else {}
    assistant = Assistant(Settings(warehouse_path=warehouse, **SETTINGS))  # type: ignore[arg-type]
    out = []
    for case in cases:
        gen = compiled_sql(assistant, case)
        ref = assistant.session.guard(case.expected.reference_sql, case.inputs.account)
        sides = {"reference": ref, "generated": gen}
        if case.name in before:  # already guarded by the baseline's own guard
            sides["before"] = Guarded(gen.expression, before[case.name], gen.tables, gen.max_rows)
        times: dict[str, list[float]] = {k: [] for k in sides}
        rows: dict[str, int] = {}
        for g in sides.values():  # warm-up, untimed
            _time(assistant, g)
        for _ in range(runs):
            for side, g in sides.items():
                t, rows[side] = _time(assistant, g)
                times[side].append(t)
        out.append(
            {
                "case": case.name,
                "question": case.inputs.question,
                "reference_ms": times["reference"],
                "generated_ms": times["generated"],
                "before_ms": times.get("before"),
                "rows": rows,
                "generated_sql": gen.sql,
                "before_sql": before.get(case.name),
            }
        )
        ref_ms, gen_ms = p50(times["reference"]), p50(times["generated"])
        extra = f", before {p50(times['before']):.1f} ms" if "before" in times else ""
        log(f"  {case.name}: ref {ref_ms:.1f} ms, generated {gen_ms:.1f} ms{extra}")
    assistant.session.executor.close()
    return out


def markdown(rows: list[dict[str, Any]], warehouse: str, runs: int) -> str:
    """The SQL-quality section: one row per case, then the geometric mean and the goal."""
    ratios = [p50(r["generated_ms"]) / p50(r["reference_ms"]) for r in rows]
    has_before = all(r.get("before_ms") for r in rows)
    head = ["case", "reference ms", "generated ms", "ratio"]
    if has_before:
        head += ["before: generated ms", "before: ratio"]
    body = []
    for r, ratio in zip(rows, ratios, strict=True):
        line = [f"`{r['case']}`", fmt_ms(p50(r["reference_ms"])), fmt_ms(p50(r["generated_ms"]))]
        line.append(f"{ratio:.2f}")
        if has_before:
            line.append(fmt_ms(p50(r["before_ms"])))
            line.append(f"{p50(r['before_ms']) / p50(r['reference_ms']):.2f}")
        body.append(line)
    gm, worst = geomean(ratios), max(ratios)
    verdict = "met" if gm <= GOAL_GEOMEAN and worst <= GOAL_WORST else "not met"
    lines = [
        f"{len(rows)} eval cases on `{warehouse}`, median of {runs} alternating runs per side "
        "after one warm-up each; every statement guarded (tenant-scoped, capped) and run on "
        f"the same read-only connection. Settings: {SETTINGS}. Ratio = generated / reference.",
        "",
        table(head, body),
        "",
        f"**Geometric mean ratio {gm:.2f}, worst {worst:.2f}** (goal ≤ {GOAL_GEOMEAN}, none "
        f"above {GOAL_WORST}): {verdict}.",
    ]
    if has_before:
        old = [p50(r["before_ms"]) / p50(r["reference_ms"]) for r in rows]
        lines.append(
            f"Before the compiler changes (same run, same connection): geometric mean "
            f"{geomean(old):.2f}, worst {max(old):.2f}."
        )
    return "\n".join(lines)


def run(
    quick: bool = False,
    runs: int = 5,
    warehouse: Path | None = None,
    baseline_ref: str | None = None,
) -> str:
    """Measure and return the markdown section."""
    if warehouse is None:
        if quick or not LARGE.exists():
            from benchmarks._common import ensure_scale

            warehouse = ensure_scale(15_000, log)
        else:
            warehouse = LARGE
    rows = measure(warehouse, CASES, runs, baseline_ref)
    (OUT_DIR / "sql.json").write_text(json.dumps(rows, indent=1))
    return markdown(rows, warehouse.name, runs)


def main(argv: list[str] | None = None) -> int:
    """Entry point: print the SQL-quality section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small warehouse instead of large")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warehouse", type=Path)
    ap.add_argument("--cases", help="comma-separated case names (default: the fixed set)")
    ap.add_argument("--baseline-ref", help="also time the SQL of this commit's compiler")
    args = ap.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    print(header_line("Generated vs reference SQL"))
    print()
    if args.cases:
        wh = args.warehouse or LARGE
        rows = measure(wh, tuple(args.cases.split(",")), args.runs, args.baseline_ref)
        print(markdown(rows, wh.name, args.runs))
    else:
        print(run(args.quick, args.runs, args.warehouse, args.baseline_ref))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
