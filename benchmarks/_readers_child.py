"""Time each reader of the engine (thread CPU) over the eval questions, in the importable `app`.

Run by benchmarks/bench_readers.py as a script with PYTHONPATH pointing at the code tree to
measure (the working tree or an older commit). Prints one JSON object on its last stdout line:
microseconds per question for each reader, for all readers, and for plan_question as a whole.

SPEC: {"warehouse": path, "cases": [{"question", "as_of", "account", "history"}], "passes": n}
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any


def main() -> None:
    """Warm up, then time every reader over `passes` passes of every case."""
    spec = json.loads(Path(sys.argv[1]).read_text())
    from _app_api import load  # run by path: benchmarks/ is sys.path[0]

    api = load({"warehouse_path": Path(spec["warehouse"])})
    engine = importlib.import_module(api.plan_question.__module__)
    cases = spec["cases"]
    contexts = []
    for c in cases:
        as_of = date.fromisoformat(c["as_of"])
        previous = None
        if c["history"]:
            conv = api.conversation()
            for q in c["history"]:
                api.ask(q, as_of, c["account"], conv)
            previous = conv.previous
        lexicon = api.lexicon_for(api.assistant.model, api.session.data_values(c["account"]))
        ctx = api.EngineContext(
            model=api.assistant.model,
            lexicon=lexicon,
            as_of=as_of,
            account=c["account"],
            previous=previous,
        )
        contexts.append((c["question"], ctx))
    spent: dict[str, float] = {}

    def timed(read: Callable[..., Any]) -> Callable[..., Any]:
        name = read.__name__

        def run(r: Any, ctx: Any) -> Any:
            t0 = time.thread_time()
            out = read(r, ctx)
            spent[name] = spent.get(name, 0.0) + time.thread_time() - t0
            return out

        return run

    for question, ctx in contexts:  # warm every lazy cache once
        api.plan_question(question, ctx)
    engine.READERS = tuple(timed(f) for f in engine.READERS)
    passes = int(spec.get("passes", 5))
    t0 = time.thread_time()
    for _ in range(passes):
        for question, ctx in contexts:
            api.plan_question(question, ctx)
    total = time.thread_time() - t0
    n = passes * len(contexts)
    out = {name: s / n * 1e6 for name, s in spent.items()}
    out["(all readers)"] = sum(spent.values()) / n * 1e6
    out["(plan_question)"] = total / n * 1e6
    print(json.dumps(out))


if __name__ == "__main__":
    main()
