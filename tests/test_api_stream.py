"""The LLM agent's own steps reach an SSE client live, as `step` events, before the answer."""

import json
from pathlib import Path

from fastapi.testclient import TestClient

from app.agent.loop import Agent
from app.api import create_app
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.router import Router
from app.store import AppStore
from tests.scripted_model import ScriptedChatModel, call, decision, text
from tests.test_api import sse

QUESTION = "What is the average number of line items per invoice in 2025?"
SQL = (
    "SELECT count(*) AS line_items, count(DISTINCT invoice_id) AS invoices, "
    "count(*) / count(DISTINCT invoice_id) AS average_per_invoice FROM invoice_line_items"
)


def test_agent_steps_stream_before_the_answer(
    llm_settings: Settings, assistant: Assistant, tmp_path: Path
) -> None:
    model = ScriptedChatModel([decision("sql"), call("run_sql", sql=SQL), text("All done.")])
    router = Router(llm_settings, assistant, agent=Agent(llm_settings, assistant, model=model))
    store = AppStore(tmp_path / "state.sqlite3", warehouse=llm_settings.warehouse_path)
    with TestClient(create_app(llm_settings, router=router, store=store)) as client:
        body = {"account": "acct_demo_01", "as_of": "2025-12-31"}
        cid = client.post("/v1/conversations", json=body).json()["id"]
        with client.stream(
            "POST",
            f"/v1/conversations/{cid}/messages",
            json={"question": QUESTION},
            headers={"Accept": "text/event-stream"},
        ) as r:
            events = sse(r.read().decode())
    names = [name for name, _, _ in events]
    assert names[0] == "planning" and names[-1] == "answer" and names.count("answer") == 1
    agent_steps = [json.loads(data) for name, _, data in events if name == "step"]
    assert any(s["kind"] == "tool_call" and s["sql"] == SQL for s in agent_steps)
    assert names.index("step") < names.index("answer")
    answer = json.loads(events[-1][2])
    assert answer["backend"].startswith("llm:") and answer["account"] == "acct_demo_01"
    assert answer["status"] == "answered" and model.seen  # the agent really ran
