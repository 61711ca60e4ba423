"""Measure the engine in this process against whatever `app` is importable (current or baseline).

Run by benchmarks/bench_engine.py as a script (`python benchmarks/_engine_child.py SPEC.json`),
with PYTHONPATH pointing at the code tree to measure, so the same measurement runs against the
working tree and against an older commit extracted with `git archive`. It imports only `app`, so
it works with any tree whose public API (Assistant, plan_question, compile_plan, check_sql) is
the one this file calls. Prints one JSON object on its last stdout line.

SPEC: {"warehouse": path, "cases": [{"question", "as_of", "account", "history"}], "repeat": n,
       "ask": bool, "stages": bool, "ask_repeat": n, "settings": {...}}
"""

from __future__ import annotations

import contextlib
import gc
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    """Run the measurements the spec asks for; print them as JSON."""
    spec = json.loads(Path(sys.argv[1]).read_text())
    from _app_api import load  # run by path: benchmarks/ is sys.path[0]

    api = load({"warehouse_path": Path(spec["warehouse"]), **spec.get("settings", {})})
    assistant, session = api.assistant, api.session
    QueryPlan, AssistantError = api.QueryPlan, api.AssistantError
    CompileContext, compile_plan = api.CompileContext, api.compile_plan
    EngineContext, plan_question, lexicon_for = (
        api.EngineContext,
        api.plan_question,
        api.lexicon_for,
    )
    cases = spec["cases"]
    for c in cases:
        c["as_of"] = date.fromisoformat(c["as_of"])

    def previous_plan(c: dict[str, Any]) -> Any:
        if not c["history"]:
            return None
        conv = api.conversation()
        for q in c["history"]:
            api.ask(q, c["as_of"], c["account"], conv)
        return conv.previous

    t_open = time.perf_counter()
    previous = [previous_plan(c) for c in cases]  # also warms account info and lexicons
    out: dict[str, Any] = {"warm_up_ms": _ms(t_open), "sqlglot_compiled": _compiled()}

    def conversation(i: int) -> Any:
        return api.conversation(previous[i])

    for i, c in enumerate(cases):  # warm DuckDB and every lazy cache once
        api.ask(c["question"], c["as_of"], c["account"], conversation(i))

    caches = _caches()

    def stages(i: int, c: dict[str, Any]) -> dict[str, float]:
        """Wall and CPU (this thread) ms of plan, compile and guard for one case."""
        info = session.account_info(c["account"])
        lex = lexicon_for(assistant.model, session.data_values(c["account"]))
        ctx = EngineContext(
            model=assistant.model,
            lexicon=lex,
            as_of=c["as_of"],
            account=c["account"],
            previous=previous[i],
        )
        got: dict[str, float] = {}
        w0, c0 = time.perf_counter(), time.thread_time()
        planned = plan_question(c["question"], ctx)
        w1, c1 = time.perf_counter(), time.thread_time()
        got |= {"plan": (w1 - w0) * 1000, "plan_cpu": (c1 - c0) * 1000}
        got |= {"plan_compile": got["plan"], "plan_compile_cpu": got["plan_cpu"]}
        if isinstance(planned, QueryPlan) and info is not None:
            with contextlib.suppress(AssistantError):
                compiled = compile_plan(
                    planned, CompileContext(account=info, as_of=c["as_of"], model=assistant.model)
                )
                w2, c2 = time.perf_counter(), time.thread_time()
                got |= {"compile": (w2 - w1) * 1000, "compile_cpu": (c2 - c1) * 1000}
                got |= {"plan_compile": (w2 - w0) * 1000, "plan_compile_cpu": (c2 - c0) * 1000}
                session.guard(compiled.expression, info.id)
                w3, c3 = time.perf_counter(), time.thread_time()
                got |= {"guard": (w3 - w2) * 1000, "guard_cpu": (c3 - c2) * 1000}
        return got

    def collect(samples: list[dict[str, float]], prefix: str = "") -> dict[str, list[float]]:
        keys = sorted({k for s in samples for k in s})
        return {f"{prefix}{k}_ms": [s[k] for s in samples if k in s] for k in keys}

    if spec.get("stages", True):
        cold = []  # every cache of compiled shapes and of checked SQL emptied before each case
        for i, c in enumerate(cases):
            for clear in caches:
                clear()
            cold.append(stages(i, c))
        warm = [stages(i, c) for _ in range(spec.get("repeat", 5)) for i, c in enumerate(cases)]
        out |= collect(cold, "cold_") | collect(warm)

    if spec.get("ask", True):
        ask_ms: list[float] = []
        execute_ms: list[float] = []
        statuses: dict[str, int] = {}
        for _ in range(spec.get("ask_repeat", spec.get("repeat", 5))):
            for i, c in enumerate(cases):
                t0 = time.perf_counter()
                answer = api.ask(c["question"], c["as_of"], c["account"], conversation(i))
                ask_ms.append(_ms(t0))
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
                timings = getattr(answer, "timings", None)
                if timings is not None and getattr(timings, "execute_ms", None):
                    execute_ms.append(float(timings.execute_ms))
        out |= {"ask_ms": ask_ms, "execute_ms": execute_ms, "statuses": statuses}
    out["gc_collections"] = [s["collections"] for s in gc.get_stats()]
    print(json.dumps(out))


def _caches() -> list[Any]:
    """cache_clear of every cache of compiled SQL (none before #8) and of typo checks it has."""
    import importlib

    found = []
    for module, name in (
        ("app.sql.compile.sqlbuild", "_parsed"),  # parsed semantic-model fragments (today)
        ("app.sql.guard.checks", "_verified"),
        ("app.understand.typos", "typo"),  # the did-you-mean check of each unknown word
        ("app.sqlbuild", "_skeleton"),  # the flat layout before issue 13
        ("app.guard", "_verified"),
    ):
        with contextlib.suppress(ImportError):
            fn = getattr(importlib.import_module(module), name, None)
            if fn is not None and hasattr(fn, "cache_clear"):
                found.append(fn.cache_clear)
    return found


def _compiled() -> bool:
    from sqlglot import tokens

    return bool(getattr(tokens, "SQLGLOTC_INSTALLED", False))


if __name__ == "__main__":
    main()
