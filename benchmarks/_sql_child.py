"""Print the guarded SQL that whatever `app` is importable generates for each case (JSON).

Run by benchmarks/bench_sql.py with PYTHONPATH pointing at an older code tree (extracted with
`git archive`), so the SQL of the compiler before a change can be timed beside today's on the
same connection. Imports only `app`. Argument: a JSON file {"warehouse": path, "cases": [...]}.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path


def main() -> None:
    """Plan, compile and guard every case; print {case name: SQL} as JSON."""
    spec = json.loads(Path(sys.argv[1]).read_text())
    from app.core.settings import Settings
    from app.pipeline.assistant import Assistant, Conversation
    from app.sql.compile import CompileContext, compile_plan
    from app.understand import EngineContext, lexicon_for, plan_question

    assistant = Assistant(Settings(warehouse_path=Path(spec["warehouse"])))
    out = {}
    for c in spec["cases"]:
        as_of = date.fromisoformat(c["as_of"])
        conv = Conversation()
        for q in c["history"]:
            assistant.ask(q, as_of=as_of, account=c["account"], conversation=conv)
        info = assistant.account_info(c["account"])
        lex = lexicon_for(assistant.model, assistant.data_values(c["account"]))
        ctx = EngineContext(
            model=assistant.model,
            lexicon=lex,
            as_of=as_of,
            account=c["account"],
            previous=conv.previous,
        )
        plan = plan_question(c["question"], ctx)
        compiled = compile_plan(
            plan, CompileContext(account=info, as_of=as_of, model=assistant.model)
        )  # type: ignore[arg-type]
        out[c["name"]] = assistant.guard(compiled.expression, c["account"]).sql
    print(json.dumps(out))


if __name__ == "__main__":
    main()
