"""Reporting-page load: the queries behind each page, as the page runs them, on the demo warehouse.

Each page of app/ui/views (Revenue, Payments, Tax, Revenue recognition) runs in Streamlit's
AppTest on the demo warehouse. While it runs, `app.ui.backend.run_plan` (the one door every page
query goes through) is wrapped to record the page's plans. Then:

* `page run, cold`: the page script with the UI's result cache cleared (every query runs);
* `page run, warm`: the same page run again (results from the UI cache keyed by plan and
  warehouse version);
* `queries`: the recorded plans answered by the shared assistant's plan path (compile, guard,
  DuckDB, explain), one after another as the page does, median of `--runs` runs per plan.

Goal: under 300 ms per page (the cold page run).

Run: python -m benchmarks.bench_pages [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from benchmarks._common import OUT_DIR, ROOT, fmt_ms, header_line, log, p50, table

GOAL_MS = 300.0
PAGES = (
    ("Revenue", "views/revenue.py"),
    ("Payments", "views/payments.py"),
    ("Tax", "views/tax.py"),
    ("Revenue recognition", "views/revenue_recognition.py"),
)
MAIN = ROOT / "app" / "ui" / "main.py"


def _apptest(demo: Path) -> Any:
    from streamlit.testing.v1 import AppTest

    os.environ["LEDGERLENS_WAREHOUSE_PATH"] = str(demo)
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "LEDGERLENS_LLM_API_KEY",
        "LEDGERLENS_LLM_BASE_URL",
    ):
        os.environ.pop(name, None)
    return AppTest.from_file(str(MAIN), default_timeout=120).run()


def measure(runs: int) -> list[dict[str, Any]]:
    """Per page: cold and warm page runs (median of `runs`), and each recorded plan's time."""
    import streamlit as st

    from app.core.request import Request
    from app.ui import backend
    from evals.warehouses import ensure_warehouse

    demo = ensure_warehouse("demo")
    recorded: list[tuple[Any, Any, str]] = []
    original = backend.run_plan

    def recording(plan: Any, *, as_of: Any, account: str) -> Any:
        recorded.append((plan, as_of, account))
        return original(plan, as_of=as_of, account=account)

    backend.run_plan = recording  # type: ignore[assignment]
    try:
        at = _apptest(demo)
        out = []
        for title, path in PAGES:
            at.switch_page(path).run()  # first visit: imports, widgets, warm connection
            if at.exception:
                raise SystemExit(f"{title}: {[e.value for e in at.exception]}")
            cold, warm = [], []
            for _ in range(runs):
                recorded.clear()
                st.cache_data.clear()
                t0 = time.perf_counter()
                at.run()
                cold.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                at.run()
                warm.append((time.perf_counter() - t0) * 1000)
            plans = list(dict.fromkeys((p.model_dump_json(), a, acc) for p, a, acc in recorded))
            assistant = backend.get_assistant()
            per_plan = []
            for plan_json, as_of, account in plans:
                from app.core.plan import QueryPlan

                plan = QueryPlan.model_validate_json(plan_json)
                times, status = [], ""
                for _ in range(runs):
                    t0 = time.perf_counter()
                    ans = assistant.answer_plan(plan, Request("", as_of=as_of, account=account))
                    times.append((time.perf_counter() - t0) * 1000)
                    status = ans.status
                per_plan.append(
                    {
                        "plan": json.loads(plan_json),
                        "ms": times,
                        "status": status,
                        "execute_ms": ans.timings.execute_ms,
                    }
                )
            out.append({"page": title, "cold_ms": cold, "warm_ms": warm, "plans": per_plan})
            log(f"  {title}: cold {p50(cold):.0f} ms, warm {p50(warm):.0f} ms, {len(plans)} plans")
        return out
    finally:
        backend.run_plan = original  # type: ignore[assignment]


def _describe(plan: dict[str, Any]) -> str:
    parts = [", ".join(plan["metrics"])]
    if plan.get("grain"):
        parts.append(f"by {plan['grain']}")
    if plan.get("dimensions"):
        parts.append("by " + ", ".join(plan["dimensions"]))
    if plan.get("comparison"):
        parts.append("vs previous")
    return " ".join(parts)


def markdown(rows: list[dict[str, Any]], runs: int) -> str:
    """Page table (cold, warm, sum of query medians) and the per-plan breakdown."""
    body, detail = [], []
    for r in rows:
        queries = sum(p50(p["ms"]) for p in r["plans"])
        cold = p50(r["cold_ms"])
        body.append(
            [
                r["page"],
                str(len(r["plans"])),
                fmt_ms(cold),
                fmt_ms(p50(r["warm_ms"])),
                fmt_ms(queries),
                "met" if cold < GOAL_MS else "not met",
            ]
        )
        for p in r["plans"]:
            detail.append(
                [
                    r["page"],
                    _describe(p["plan"]),
                    p["status"],
                    fmt_ms(p50(p["ms"])),
                    fmt_ms(float(p["execute_ms"] or 0)),
                ]
            )
    return "\n".join(
        [
            f"Demo warehouse, account from the sidebar default, median of {runs} runs; the page "
            "runs in Streamlit's AppTest (script + widgets + queries, no browser).",
            "",
            table(
                [
                    "page",
                    "queries",
                    "page run cold ms",
                    "page run warm ms",
                    "sum of query medians ms",
                    f"goal < {GOAL_MS:.0f} ms (cold)",
                ],
                body,
            ),
            "",
            "Queries behind each page (answer_plan: compile, guard, DuckDB, explain):",
            "",
            table(["page", "plan", "status", "median ms", "of which DuckDB ms"], detail, "lllrr"),
        ]
    )


def run(quick: bool = False, runs: int = 5) -> str:
    """Measure every page; return the markdown section (or why it could not run)."""
    missing = [p for _, p in PAGES if not (ROOT / "app" / "ui" / p).exists()]
    if missing:
        return f"Not measured: the page modules {missing} do not exist yet."
    rows = measure(3 if quick else runs)
    (OUT_DIR / "pages.json").write_text(json.dumps(rows, indent=1, default=str))
    return markdown(rows, 3 if quick else runs)


def main(argv: list[str] | None = None) -> int:
    """Entry point: print the page-load section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    print(header_line("Reporting page load"))
    print()
    print(run(False, args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
