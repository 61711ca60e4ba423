"""Engine latency: plan + compile per question, and warm end-to-end ask() on the demo warehouse.

Run: .venv/bin/python -m benchmarks.bench_engine [--repeat N]
Prints a markdown table (p50/p95 in ms) with the machine's core count.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from datetime import date

from app.assistant import Assistant, Conversation
from app.compiler import CompileContext, compile_plan
from app.engine import EngineContext, plan_question
from app.errors import CompileError
from app.lexicon import lexicon_for
from app.plan import QueryPlan
from app.settings import Settings
from evals.cases import load_cases
from evals.run import CASES_DIR
from evals.warehouses import ensure_warehouse


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cases = [c for c in load_cases([CASES_DIR]) if not c.inputs.history]
    assistant = Assistant(Settings(warehouse_path=ensure_warehouse("demo")))
    plan_ms: list[float] = []
    ask_ms: list[float] = []
    for case in cases:  # warm caches: account info, lexicon, DuckDB
        assistant.ask(case.inputs.question, as_of=case.inputs.as_of, account=case.inputs.account)
    for _ in range(args.repeat):
        for case in cases:
            i = case.inputs
            info = assistant.account_info(i.account)
            lex = lexicon_for(assistant.model, assistant.data_values(i.account))
            t = time.perf_counter()
            planned = plan_question(
                i.question,
                EngineContext(model=assistant.model, lexicon=lex, as_of=i.as_of, account=i.account),
            )
            if isinstance(planned, QueryPlan) and info is not None:
                with contextlib.suppress(CompileError):
                    compile_plan(
                        planned, CompileContext(account=info, as_of=i.as_of, model=assistant.model)
                    )
            plan_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            assistant.ask(i.question, as_of=i.as_of, account=i.account, conversation=Conversation())
            ask_ms.append((time.perf_counter() - t) * 1000)
    print(
        f"Engine benchmark, {date.today()}, {os.cpu_count()} cores, "  # allowed-clock: report
        f"{len(cases)} questions x {args.repeat} runs\n"
    )
    print("| measure | p50 ms | p95 ms | mean ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, vals in (("plan + compile", plan_ms), ("ask() end to end, warm", ask_ms)):
        print(
            f"| {name} | {_pct(vals, 0.5):.2f} | {_pct(vals, 0.95):.2f} | "
            f"{statistics.mean(vals):.2f} |"
        )


if __name__ == "__main__":
    main()
