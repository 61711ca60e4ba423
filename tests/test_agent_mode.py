"""Tool mode detection, the JSON action schema's caps, periods from our parser, plan checks."""

from __future__ import annotations

from datetime import date

import pytest

from app.agent.draft import action_schema, capped, plan_from_draft
from app.agent.mode import is_local, tool_mode
from app.agent.native import DECISION_SCHEMA
from app.agent.periods import resolve_periods
from app.agent.vet import PlanProblem, check_plan
from app.core.plan import QueryPlan, TimeRange
from app.core.settings import Settings
from app.semantic.load import semantic_model

MODEL = semantic_model()
AS_OF = date(2025, 12, 31)


@pytest.mark.parametrize(
    ("url", "model", "mode"),
    [
        ("http://127.0.0.1:8080/v1", "gpt-4.1-mini", "json"),
        ("http://localhost:11434/v1", "llama3.1", "json"),
        ("http://[::1]:8080/v1", "x", "json"),
        (None, "gpt-4.1-mini", "native"),
        ("https://gateway.example.com/v1", "gpt-4.1-mini", "native"),
        ("https://gateway.example.com/v1", "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf", "json"),
    ],
)
def test_auto_mode_decides_from_the_base_url_and_model(url, model, mode) -> None:
    chosen = tool_mode(Settings(llm_base_url=url, llm_model=model))
    assert chosen.mode == mode and chosen.why.startswith("auto:")


def test_an_explicit_mode_wins() -> None:
    s = Settings(llm_base_url="http://127.0.0.1:8080/v1", llm_tool_mode="native")
    assert tool_mode(s).text == "native (set by llm_tool_mode)"
    assert not is_local("https://127.0.0.1.example.com/v1")


def _walk(schema):
    if isinstance(schema, dict):
        yield schema
        for v in schema.values():
            yield from _walk(v)
    elif isinstance(schema, list):
        for v in schema:
            yield from _walk(v)


@pytest.mark.parametrize(
    "schema",
    [action_schema(MODEL, resolve_periods("refunds in 2025", AS_OF)), DECISION_SCHEMA],
    ids=["json-action", "native-decision"],
)
def test_every_list_and_string_in_a_schema_is_capped(schema) -> None:
    nodes = list(_walk(schema))
    arrays = [n for n in nodes if n.get("type") == "array"]
    fixed = ("enum", "format", "const")  # a date or an enum value has a bounded length
    strings = [n for n in nodes if n.get("type") == "string" and not any(k in n for k in fixed)]
    assert arrays and all("maxItems" in n for n in arrays)
    assert strings and all("maxLength" in n for n in strings)


def test_capped_keeps_existing_caps_and_enums() -> None:
    out = capped({"type": "array", "maxItems": 2, "items": {"type": "string", "enum": ["a"]}})
    assert out == {"type": "array", "maxItems": 2, "items": {"type": "string", "enum": ["a"]}}


def test_periods_come_from_our_parser_and_none_only_when_it_reads_none() -> None:
    assert resolve_periods("refunds in Q1 2025 and Q2 2025", AS_OF).keys == [
        "2025-01-01..2025-04-01",
        "2025-04-01..2025-07-01",
    ]
    assert resolve_periods("Which customer pays the most?", AS_OF).keys == ["none"]


def test_a_draft_becomes_a_plan_with_our_period_and_label() -> None:
    periods = resolve_periods("gross volume last month by card brand", AS_OF)
    draft = {"metrics": ["gross_volume"], "period": "2025-11-01..2025-12-01"}
    plan = plan_from_draft({**draft, "dimensions": ["card_brand"], "grain": "none"}, MODEL, periods)
    assert plan.time == TimeRange(
        start=date(2025, 11, 1), end=date(2025, 12, 1), label="last month"
    )
    assert plan.dimensions == ("card_brand",) and plan.grain is None


@pytest.mark.parametrize(
    ("plan", "problem"),
    [
        ({"metrics": ["nope"]}, "unknown metric(s) nope"),
        ({"metrics": ["gross_volume"], "dimensions": ["created"]}, "unknown dimension(s) created"),
        ({"metrics": ["gross_volume"], "columns": ["amount"]}, "need a list"),
        (
            {"metrics": ["gross_volume"], "time": {"start": "2025-12-31", "end": "2025-12-31"}},
            "is empty",
        ),
        (
            {"metrics": ["gross_volume"], "time": {"start": "2025-12-01", "end": "2026-01-01"}},
            "the period must be one the question names",
        ),
    ],
)
def test_model_plans_with_unknown_names_or_other_periods_are_refused(plan, problem) -> None:
    periods = resolve_periods("gross volume in 2025", AS_OF)
    with pytest.raises(PlanProblem, match=problem.replace("(", r"\(").replace(")", r"\)")):
        check_plan(QueryPlan.model_validate(plan), MODEL, periods)


def test_a_plan_with_the_parsers_period_gets_the_parsers_label() -> None:
    periods = resolve_periods("gross volume in 2025", AS_OF)
    plan = QueryPlan.model_validate(
        {
            "metrics": ["gross_volume"],
            "time": {"start": "2025-01-01", "end": "2026-01-01", "label": "last month"},
        }
    )
    assert check_plan(plan, MODEL, periods).time.label == "2025"
