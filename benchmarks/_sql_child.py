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
    from _app_api import load  # run by path: benchmarks/ is sys.path[0]

    api = load({"warehouse_path": Path(spec["warehouse"])})
    assistant, session = api.assistant, api.session
    out = {}
    for c in spec["cases"]:
        as_of = date.fromisoformat(c["as_of"])
        conv = api.conversation()
        for q in c["history"]:
            api.ask(q, as_of, c["account"], conv)
        info = session.account_info(c["account"])
        lex = api.lexicon_for(assistant.model, session.data_values(c["account"]))
        ctx = api.EngineContext(
            model=assistant.model,
            lexicon=lex,
            as_of=as_of,
            account=c["account"],
            previous=conv.previous,
        )
        plan = api.plan_question(c["question"], ctx)
        compiled = api.compile_plan(
            plan, api.CompileContext(account=info, as_of=as_of, model=assistant.model)
        )
        out[c["name"]] = session.guard(compiled.expression, c["account"]).sql
    print(json.dumps(out))


if __name__ == "__main__":
    main()
