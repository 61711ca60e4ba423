"""The LLM path over a real HTTP wire: openai SDK + langchain-openai against a scripted server.

Plumbing only: these prove the client path, retries, fallbacks and the guard, never accuracy.
Every test asserts on what the user finally sees (the Answer), not only on internals.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.core.conversation import Conversation
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.router import Router
from tests.openai_server import (
    OpenAIServer,
    delay,
    error,
    garbage,
    structured,
    text,
    tool_call,
)

AS_OF = date(2025, 12, 31)
ACCT = "acct_demo_01"
QUESTION = "What is the average number of line items per invoice in 2025?"
GOOD_SQL = (
    "SELECT count(*) AS line_items, count(DISTINCT invoice_id) AS invoices, "
    "count(*) / count(DISTINCT invoice_id) AS average_per_invoice FROM invoice_line_items"
)
# Refused by the engine (no metric is called "receipts"); gross volume answers it.
PLAN_QUESTION = "What were our gross card receipts in 2025?"


@pytest.fixture
def wire(openai_server: OpenAIServer, demo_path, assistant: Assistant):
    def make(**overrides) -> Router:
        values = {
            "warehouse_path": demo_path,
            "llm_base_url": openai_server.base_url,
            "llm_api_key": "sk-test-wire",
            "llm_model": "gpt-4.1-mini",
            "llm_tool_mode": "native",
            "llm_timeout_s": 2.0,
            "llm_max_retries": 1,
            "llm_explain": False,
            "llm_correction_budget": 2,
            "llm_tool_call_budget": 4,
        }
        values.update(overrides)
        return Router(Settings(**values), assistant)

    return make


def _sql_steps(*sqls: str) -> list:
    steps: list = [structured({"action": "sql", "reason": "no metric for this"})]
    steps += [tool_call("run_sql", {"sql": s}, id=f"call_{i}") for i, s in enumerate(sqls)]
    return [*steps, text("Here is the count.")]


def test_plan_via_structured_output_over_http(wire, openai_server, assistant):
    engine = assistant.ask(Request("Gross volume in 2025", as_of=AS_OF, account=ACCT))
    assert engine.plan is not None
    plan = engine.plan.model_dump(mode="json", exclude_defaults=True)
    openai_server.enqueue(structured({"action": "plan", "plan": plan, "reason": ""}))
    answer = wire().ask(Request(PLAN_QUESTION, as_of=AS_OF, account=ACCT))
    assert answer.status == "answered" and answer.value == engine.value
    assert answer.backend == "llm:gpt-4.1-mini"
    body = openai_server.requests[0].body
    assert body["model"] == "gpt-4.1-mini" and body["temperature"] == 0
    assert "response_format" in body or "tools" in body
    assert openai_server.requests[0].has_authorization
    assert answer.llm is not None and answer.llm.prompt_tokens > 0


def test_raw_sql_via_tool_call_over_http(wire, openai_server, assistant):
    openai_server.enqueue(*_sql_steps(GOOD_SQL))
    answer = wire().ask(Request(QUESTION, as_of=AS_OF, account=ACCT))
    direct = assistant.session.run_sql(GOOD_SQL, ACCT)
    assert answer.status == "answered" and [tuple(r) for r in answer.rows] == list(direct.rows)
    tools = {t["function"]["name"] for t in openai_server.requests[1].body["tools"]}
    assert {"run_sql", "lookup_metric", "describe_table", "sample_values"} <= tools


def test_drop_table_blocked_then_corrected(wire, openai_server):
    openai_server.enqueue(*_sql_steps("DROP TABLE invoices", GOOD_SQL))
    answer = wire().ask(Request(QUESTION, as_of=AS_OF, account=ACCT))
    assert answer.status == "answered" and "DROP" not in (answer.sql or "")
    fed_back = openai_server.requests[2].body["messages"][-1]
    assert fed_back["role"] == "tool" and "SELECT" in fed_back["content"]


def test_hallucinated_column_is_corrected_on_retry(wire, openai_server):
    openai_server.enqueue(*_sql_steps("SELECT sum(line_total) FROM invoice_line_items", GOOD_SQL))
    answer = wire().ask(Request(QUESTION, as_of=AS_OF, account=ACCT))
    assert answer.status == "answered"
    assert "line_total" in openai_server.requests[2].body["messages"][-1]["content"]


def test_endless_tool_calls_exhaust_the_budget(wire, openai_server):
    steps = [structured({"action": "sql", "reason": ""})]
    steps += [tool_call("describe_table", {"table": "invoices"}, id=f"c{i}") for i in range(6)]
    openai_server.enqueue(*steps)
    answer = wire().ask(Request(QUESTION, as_of=AS_OF, account=ACCT))
    assert answer.status == "refused" and "llm_tool_call_budget" in answer.headline
    assert answer.value is None and answer.suggestions


def test_429_then_success(wire, openai_server):
    openai_server.enqueue(error(429, retry_after=0), *_sql_steps(GOOD_SQL))
    answer = wire().ask(Request(QUESTION, as_of=AS_OF, account=ACCT))
    assert answer.status == "answered" and not answer.notices
    assert len(openai_server.requests) == 4


def test_429s_past_the_retries_fall_back_to_the_engine(wire, openai_server):
    openai_server.enqueue(error(429, retry_after=0), error(429, retry_after=0))
    conv = Conversation()
    answer = wire().ask(Request(QUESTION, as_of=AS_OF, account=ACCT, conversation=conv))
    assert answer.status == "refused" and answer.suggestions
    assert any("AI assistant is unavailable" in n for n in answer.notices)
    assert conv.answers == [answer]


def test_timeout_falls_back_with_a_notice(wire, openai_server):
    openai_server.enqueue(delay(1.5, structured({"action": "sql"})))
    answer = wire(llm_timeout_s=0.3, llm_max_retries=0).ask(
        Request(QUESTION, as_of=AS_OF, account=ACCT)
    )
    assert any("unavailable" in n and "Timeout" in n for n in answer.notices)
    assert answer.status == "refused" and answer.suggestions


def test_server_errors_fall_back(wire, openai_server):
    openai_server.enqueue(error(503), error(503))
    answer = wire().ask(Request(QUESTION, as_of=AS_OF, account=ACCT))
    assert any("unavailable" in n for n in answer.notices)


def test_garbage_body_falls_back(wire, openai_server):
    openai_server.enqueue(garbage(), garbage())
    answer = wire(llm_max_retries=0).ask(Request(QUESTION, as_of=AS_OF, account=ACCT))
    assert any("unavailable" in n for n in answer.notices) and answer.status == "refused"


def test_malformed_tool_arguments_are_fed_back(wire, openai_server):
    openai_server.enqueue(
        structured({"action": "sql"}),
        tool_call("run_sql", '{"sql": "SELECT', id="bad"),
        tool_call("run_sql", {"sql": GOOD_SQL}, id="good"),
        text("ok"),
    )
    answer = wire().ask(Request(QUESTION, as_of=AS_OF, account=ACCT))
    assert answer.status == "answered"
    tool_msgs = [m for m in openai_server.requests[2].body["messages"] if m["role"] == "tool"]
    assert tool_msgs and "parse_error" in tool_msgs[-1]["content"]  # the model hears why


def test_model_asking_for_another_account_gets_only_ours(wire, openai_server):
    sql = (
        "SELECT merchant_id, count(*) / count(DISTINCT invoice_id) AS average_line_items "
        "FROM invoice_line_items WHERE merchant_id IN ('acct_demo_02', 'acct_demo_01') "
        "GROUP BY merchant_id"
    )
    openai_server.enqueue(*_sql_steps(sql))
    answer = wire().ask(Request(QUESTION, as_of=AS_OF, account=ACCT))
    assert answer.status == "answered" and answer.rows
    assert {r[0] for r in answer.rows} == {ACCT}


def test_explanation_with_made_up_number_is_replaced(wire, openai_server):
    openai_server.enqueue(text("Gross volume was $987,654,321.00 in 2025, up 42%."))
    answer = wire(llm_explain=True).ask(Request("Gross volume in 2025", as_of=AS_OF, account=ACCT))
    assert answer.status == "answered" and answer.backend == "engine"
    assert "987,654,321" not in answer.explanation and answer.explanation
    assert any("not in the result" in n for n in answer.notices)


def test_no_secret_in_the_recorded_requests(wire, openai_server):
    openai_server.enqueue(*_sql_steps(GOOD_SQL))
    wire().ask(Request(QUESTION, as_of=AS_OF, account=ACCT))
    assert "sk-test-wire" not in repr(openai_server.requests)
