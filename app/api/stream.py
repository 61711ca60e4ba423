"""An answer streamed as Server-Sent Events: its steps first, then one `answer` event.

The LLM agent's own steps (`step` events) arrive live while it works. The engine plans, compiles,
guards, runs and explains in one call, so its stages (sql, guard, executing, rows, explanation)
are sent from the finished Answer, still before the `answer` event.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator

from app.core.answer import Answer, Step

log = logging.getLogger(__name__)

Ask = Callable[[Callable[[Step], None]], tuple[int, Answer]]


def event(name: str, data: str, event_id: str | None = None) -> str:
    """One SSE event; data lines split so that a newline in the JSON cannot end the event."""
    lines = [f"event: {name}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


def stage_steps(answer: Answer, account: str) -> list[tuple[str, Step]]:
    """The pipeline's stages of a finished answer, as (event name, Step)."""
    out: list[tuple[str, Step]] = []
    if answer.read_back:
        out.append(("planning", Step(kind="model", text=f"Read as: {answer.read_back}")))
    if answer.sql:
        out.append(("sql", Step(kind="tool_call", text="SQL for the plan", sql=answer.sql)))
    if answer.status == "rejected":
        out.append(("guard", Step(kind="notice", text=f"The guard refused it: {answer.error}")))
        return out
    if answer.sql:
        out.append(
            (
                "guard",
                Step(
                    kind="tool_result",
                    text=f"Guard passed: read-only, allow-listed tables, scoped to {account}.",
                ),
            )
        )
    if answer.status == "answered":
        out.append(("executing", Step(kind="tool_result", text="Ran on the warehouse.")))
        cut = " (cut by the max_rows setting)" if answer.truncated else ""
        out.append(("rows", Step(kind="tool_result", text=f"{len(answer.rows)} rows{cut}.")))
        out.append(("explanation", Step(kind="text", text=answer.explanation or answer.headline)))
    return out


def stream_answer(ask: Ask, account: str) -> Iterator[str]:
    """SSE events of one question: planning, the agent's live steps, the stages, the answer."""
    yield event("planning", Step(kind="notice", text="Reading the question.").model_dump_json())
    steps: queue.Queue[tuple[str, object]] = queue.Queue()

    def work() -> None:
        try:
            steps.put(("done", ask(lambda step: steps.put(("step", step)))))
        except Exception as err:  # reported as an `error` event, never a stack trace
            log.exception("streamed answer failed")
            steps.put(("error", err))

    threading.Thread(target=work, name="ledgerlens-api-answer", daemon=True).start()
    while True:
        kind, item = steps.get()
        if kind == "step" and isinstance(item, Step):
            yield event("step", item.model_dump_json())
        elif kind == "done" and isinstance(item, tuple):
            n, answer = item
            for name, step in stage_steps(answer, account):
                yield event(name, step.model_dump_json())
            yield event("answer", answer.model_dump_json(), event_id=str(n))
            return
        else:
            detail = f"Something went wrong ({type(item).__name__})."
            body = {"type": "/problems/internal", "title": "Internal error", "status": 500}
            yield event("error", json.dumps({**body, "detail": detail}))
            return
