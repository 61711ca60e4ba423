"""The agent against models without native tool calls, over a real HTTP wire (issue 18).

A scripted OpenAI-compatible server on 127.0.0.1 stands in for llama.cpp: the agent picks JSON
mode for it by itself, and every fault path a small local model takes is scripted here: tool
calls written as text, replies cut at the length limit, invalid plans, repeated steps.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.router import Router
from tests.openai_server import text

AS_OF = date(2025, 12, 31)
ACCT = "acct_demo_01"
QUESTION = "What is the average number of line items per invoice in 2025?"
YEAR = "2025-01-01..2026-01-01"
GOOD_SQL = (
    "SELECT count(*) / count(DISTINCT invoice_id) AS average_line_items FROM invoice_line_items"
)
# Refused by the engine (no metric is called "receipts"); gross volume answers it.
PLAN_QUESTION = "What were our gross card receipts in 2025?"
PLAN = {"action": "plan", "plan": {"metrics": ["gross_volume"], "period": YEAR}}


@pytest.fixture
def wire(server_settings, assistant: Assistant):
    def make(**overrides) -> Router:
        values = {
            "llm_max_retries": 1,
            "llm_correction_budget": 2,
            "llm_tool_call_budget": 4,
            "llm_max_output_tokens": 256,
        }
        return Router(server_settings(**(values | overrides)), assistant)

    return make


def _step(payload: dict, **kw) -> object:
    return text(json.dumps(payload), **kw)


def _ask(router: Router, question: str = QUESTION):
    return router.ask(Request(question, as_of=AS_OF, account=ACCT))


def test_a_local_base_url_gets_json_mode_and_a_plan_draft_answers(wire, openai_server, assistant):
    openai_server.enqueue(_step(PLAN))
    answer = _ask(wire(), PLAN_QUESTION)
    engine = assistant.ask(Request("Gross volume in 2025", as_of=AS_OF, account=ACCT))
    assert answer.status == "answered" and answer.value == engine.value
    assert answer.llm is not None and answer.llm.tool_mode.startswith("json (auto: the base URL")
    body = openai_server.bodies[0]
    schema = body["response_format"]["json_schema"]["schema"]
    assert body["response_format"]["type"] == "json_schema" and "tools" not in body
    actions = [b["properties"]["action"]["const"] for b in schema["anyOf"]]
    assert actions == ["plan", "sql", "lookup", "cannot_answer"]
    plan = schema["anyOf"][0]["properties"]["plan"]["properties"]
    assert plan["period"]["enum"] == [YEAR]  # our parser's period, never model-computed dates
    assert "gross_volume" in plan["metrics"]["items"]["enum"] and plan["metrics"]["maxItems"]


def test_every_request_caps_its_output(wire, openai_server):
    openai_server.enqueue(
        _step({"action": "lookup", "tool": "describe_table", "name": "invoice_line_items"}),
        _step({"action": "sql", "sql": GOOD_SQL}),
        text("Invoices in 2025 had line items."),
    )
    answer = _ask(wire(llm_explain=True))
    assert answer.status == "answered"
    caps = [b.get("max_completion_tokens") or b.get("max_tokens") for b in openai_server.bodies]
    assert len(caps) == 3 and caps[:2] == [256, 256] and 0 < caps[2] <= 256


def test_a_length_cut_is_its_own_refusal_and_is_not_retried(wire, openai_server):
    openai_server.enqueue(
        text('{"action": "sql", "sql": "SELECT customer_id, ', finish_reason="length")
    )
    answer = _ask(wire())
    assert answer.status == "refused" and "cut at its output limit (256 tokens" in answer.headline
    assert "llm_max_output_tokens" in answer.headline
    assert not any("unavailable" in n for n in answer.notices)
    assert len(openai_server.bodies) == 1 and openai_server.remaining == 0


def test_a_length_cut_in_native_mode_is_the_same_refusal(wire, openai_server):
    openai_server.enqueue(text('{"action": "sql", "reason": "', finish_reason="length"))
    answer = _ask(wire(llm_tool_mode="native"))
    assert answer.status == "refused" and "llm_max_output_tokens" in answer.headline
    assert len(openai_server.bodies) == 1


def test_an_invalid_plan_is_refused_before_it_runs(wire, openai_server):
    bad = {"action": "plan", "plan": {"metrics": ["gross_volume"], "period": "2024-01-01..x"}}
    worse = {"action": "plan", "plan": {"metrics": ["no_such_metric"], "period": YEAR}}
    openai_server.enqueue(
        _step(bad), _step(worse), _step({"action": "cannot_answer", "reason": "No."})
    )
    steps: list = []
    answer = wire().ask(Request(QUESTION, as_of=AS_OF, account=ACCT), on_step=steps.append)
    assert answer.status == "refused" and answer.sql is None and not answer.rows
    fed_back = [b["messages"][-1]["content"] for b in openai_server.bodies[1:]]
    assert "period must be one of 2025-01-01..2026-01-01" in fed_back[0]
    assert "no_such_metric" in fed_back[1]
    assert not any(s.kind == "tool_result" for s in steps)  # nothing compiled or ran


def test_a_repeated_step_ends_the_run_instead_of_looping(wire, openai_server):
    failing = {"action": "sql", "sql": "SELECT avg(nope) AS average FROM invoices"}
    openai_server.enqueue(_step(failing), _step(failing), _step(failing), _step(failing))
    answer = _ask(wire())
    assert answer.status == "refused" and "repeated a step" in answer.headline
    # the repeat is sampled once more, changed (temperature), never sent unchanged a third time
    assert len(openai_server.bodies) == 3 and openai_server.remaining == 1
    temperatures = [b.get("temperature") for b in openai_server.bodies]
    assert temperatures == [0, 0, 0.7]
    feedback = [m["content"] for m in openai_server.bodies[1]["messages"] if m["role"] == "user"]
    assert sum("nope" in f for f in feedback) == 1 and "Columns of invoices: id," in feedback[-1]


def test_native_mode_accepts_a_tool_call_written_as_json_text(wire, openai_server, assistant):
    call = {"name": "run_sql", "arguments": {"sql": GOOD_SQL}}
    openai_server.enqueue(
        _step({"action": "sql", "reason": "no metric counts line items"}),
        text(f"<tool_call>\n{json.dumps(call)}\n</tool_call>"),
        text("Done."),
    )
    answer = _ask(wire(llm_tool_mode="native"))
    direct = assistant.session.run_sql(GOOD_SQL, ACCT)
    assert answer.status == "answered" and [tuple(r) for r in answer.rows] == list(direct.rows)
    instructions = [
        m["content"] for b in openai_server.bodies for m in b["messages"] if m["role"] == "user"
    ]
    assert not any("Call run_sql" in i for i in instructions)  # never asked again
    assert openai_server.bodies[2]["messages"][-1]["role"] == "tool"


def test_native_mode_asks_for_sql_once_then_refuses_without_blaming_corrections(
    wire, openai_server
):
    openai_server.enqueue(
        _step({"action": "sql", "reason": "needs a count"}),
        text("The average is about three line items."),
        text("As I said, about three."),
        text("unused"),
    )
    answer = _ask(wire(llm_tool_mode="native"))
    assert answer.status == "refused" and "no query ran" in answer.headline
    assert "corrections" not in answer.headline and answer.value is None
    asks = [
        m["content"]
        for m in openai_server.bodies[-1]["messages"]
        if m["role"] == "user" and "Call run_sql" in m["content"]
    ]
    assert len(asks) == 1 and openai_server.remaining == 1


def test_cached_prompt_tokens_are_shown_with_the_answer(wire, openai_server):
    openai_server.enqueue(_step(PLAN, usage=(1800, 40), cached=1650))
    answer = _ask(wire(), PLAN_QUESTION)
    assert answer.llm is not None and answer.llm.cached_tokens == 1650
    assert answer.llm.prompt_tokens == 1800 and answer.llm.calls == 1


def test_the_prefix_sent_is_the_same_for_two_questions(wire, openai_server):
    cannot = {"action": "cannot_answer", "reason": "Not in the data."}
    openai_server.enqueue(_step(cannot), _step(cannot))
    router = wire()
    _ask(router)
    _ask(router, "Which customer has had the longest uninterrupted subscription?")
    first, second = (b["messages"] for b in openai_server.bodies)
    assert first[0] == second[0] and first[0]["role"] == "system"
    assert first[1] != second[1] and second[1]["content"].rstrip().endswith("subscription?")


def test_a_made_up_assumption_is_dropped_and_a_refusal_reason_with_numbers_replaced(
    wire, openai_server
):
    plan = {"action": "plan", "plan": {**PLAN["plan"], "assumptions": ["The largest was $100.00"]}}
    openai_server.enqueue(
        _step(plan), _step({"action": "cannot_answer", "reason": "Headcount was 1,234 in 2025."})
    )
    router = wire()
    answer = _ask(router, PLAN_QUESTION)
    assert answer.status == "answered"
    assert not any("100.00" in a.text for a in answer.assumptions)
    assert any("assumption" in n for n in answer.notices)
    refused = _ask(router, "How many employees did we have in 2025?")
    assert refused.status == "refused" and "1,234" not in refused.headline


def test_an_explanation_naming_someone_not_in_the_result_is_replaced(wire, openai_server):
    openai_server.enqueue(_step(PLAN), text("Gross volume in 2025 came mostly from Maya Tremblay."))
    answer = _ask(wire(llm_explain=True), PLAN_QUESTION)
    assert answer.status == "answered" and "Maya" not in answer.explanation
    assert any("date or name not in the result" in n for n in answer.notices)
