"""A model's plan or SELECT must answer the question asked: the engine's reading says what it needs.

The failure that motivated it, with the real 1.5B model: "How many customers paid with more than
one card brand?" was answered with the most recent customer (a list of one row).
"""

from __future__ import annotations

import json
from datetime import date

from app.agent.readback import Demands, demands_of, plan_gaps, sql_gaps
from app.core.plan import ListOrder, PerGroup, QueryPlan, TimeRange
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.router import Router
from tests.openai_server import OpenAIServer, text

AS_OF = date(2025, 12, 31)
ACCT = "acct_demo_01"
BRANDS = "How many customers paid with more than one card brand?"
YEAR = TimeRange(start=date(2025, 1, 1), end=date(2026, 1, 1))
# What qwen2.5-coder-1.5b sent for BRANDS: the latest customer.
LATEST_CUSTOMER = QueryPlan(
    metrics=("gross_volume",),
    listing="customers",
    columns=("customer", "customer_id", "email", "country", "created"),
    order=ListOrder(column="created", direction="desc"),
    limit=1,
)


def test_the_engine_reading_names_what_the_question_needs(assistant: Assistant) -> None:
    needs = demands_of(BRANDS, assistant, ACCT, AS_OF)
    assert needs.count and {"card", "brand"} <= set(needs.words)
    average = demands_of(
        "What is the average number of line items per invoice?", assistant, ACCT, AS_OF
    )
    assert not average.count and "average" in average.words  # an average of counts, not a count


def test_the_latest_customer_does_not_answer_how_many_paid_with_two_brands(
    assistant: Assistant,
) -> None:
    gap = plan_gaps(LATEST_CUSTOMER, demands_of(BRANDS, assistant, ACCT, AS_OF), assistant.model)
    assert gap is not None
    assert "'card', 'brand'" in gap and "asks how many" in gap


def test_a_plan_that_counts_charges_by_card_brand_per_customer_is_let_through(
    assistant: Assistant,
) -> None:
    plan = QueryPlan(
        metrics=("gross_volume",),
        listing="charges",
        columns=("customer", "card_brand"),
        per_group=PerGroup(column="customer", count=True, at_least=2),
        time=YEAR,
    )
    assert plan_gaps(plan, demands_of(BRANDS, assistant, ACCT, AS_OF), assistant.model) is None


def test_a_select_must_use_the_words_and_count() -> None:
    needs = Demands(words=("card", "brand", "one"), count=True)
    gap = sql_gaps("SELECT id, email FROM customers ORDER BY created DESC LIMIT 1", needs)
    assert gap is not None and "'card', 'brand'" in gap and "count" in gap
    good = (
        "SELECT count(*) AS customers FROM (SELECT customer_id FROM charges "
        "GROUP BY customer_id HAVING count(DISTINCT card_brand) > 1)"
    )
    assert sql_gaps(good, needs) is None


def test_the_agent_refuses_the_latest_customer_and_nothing_runs(
    openai_server: OpenAIServer, server_settings, assistant: Assistant
) -> None:
    plan = {
        "metrics": ["gross_volume"],
        "list": "customers",
        "columns": ["customer", "customer_id", "email", "country", "created"],
        "order": {"column": "created", "direction": "desc"},
        "limit": 1,
        "period": "none",
    }
    openai_server.enqueue(
        text(json.dumps({"action": "plan", "plan": plan})),
        text(json.dumps({"action": "cannot_answer", "reason": "No plan counts card brands."})),
    )
    settings = server_settings(llm_tool_call_budget=3)
    steps: list = []
    answer = Router(settings, assistant).ask(
        Request(BRANDS, as_of=AS_OF, account=ACCT), on_step=steps.append
    )
    assert answer.status == "refused" and answer.value is None and not answer.rows
    assert not any(s.kind == "tool_result" for s in steps)  # the plan never ran
    fed_back = openai_server.bodies[1]["messages"][-1]["content"]
    assert "does not answer the question" in fed_back and "'card', 'brand'" in fed_back
