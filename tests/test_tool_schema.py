"""Tool schemas derived from the tool functions: names, descriptions, parameters, errors."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from app.core.errors import PromptError
from tools import TOOLS, ToolContext, tool_schemas, tool_spec
from tools.schema import parse_docstring


def _function(schema: dict) -> dict:
    assert schema["type"] == "function"
    return schema["function"]


def test_one_schema_per_registered_tool_named_after_its_function() -> None:
    names = [_function(s)["name"] for s in tool_schemas(TOOLS)]
    assert names == ["lookup_metric", "describe_table", "sample_values", "run_sql"]


@pytest.mark.parametrize(
    ("name", "required"),
    [
        ("lookup_metric", ["word"]),
        ("describe_table", ["table"]),
        ("sample_values", ["table", "column"]),
        ("run_sql", ["sql"]),
    ],
)
def test_parameters_are_the_signature_without_ctx(name: str, required: list[str]) -> None:
    fn = next(f for f in TOOLS if f.__name__ == name)
    params = _function(tool_spec(fn).schema())["parameters"]
    assert params["type"] == "object"
    assert params["required"] == required
    assert list(params["properties"]) == required  # ctx is injected, never shown
    for prop in params["properties"].values():
        assert prop["type"] == "string"
        assert "title" not in prop


def test_descriptions_come_from_the_docstring() -> None:
    by_name = {_function(s)["name"]: _function(s) for s in tool_schemas(TOOLS)}
    run_sql = by_name["run_sql"]
    assert run_sql["description"].startswith(
        "Run one read-only DuckDB SELECT on the account's data and return a preview of the rows. "
        "Only when no QueryPlan can express the question."
    )
    assert "Args" not in run_sql["description"] and "\n" not in run_sql["description"]
    assert run_sql["parameters"]["properties"]["sql"]["description"] == (
        "One DuckDB SELECT statement."
    )
    column = by_name["sample_values"]["parameters"]["properties"]["column"]
    assert column["description"] == (
        "A low-cardinality column of that table, e.g. 'card_brand' or 'status'."
    )
    for fn in by_name.values():
        assert fn["description"].endswith(".")
        for prop in fn["parameters"]["properties"].values():
            assert prop["description"][0].isupper() and prop["description"].endswith(".")


def test_parse_docstring_joins_continued_lines_and_stops_at_the_next_section() -> None:
    doc = """Do a thing.

    More about it.

    Args:
        first: The first
            argument, continued.
        second (int): The second.

    Returns:
        ignored: not an argument.
    """
    assert parse_docstring(doc) == (
        "Do a thing. More about it.",
        {"first": "The first argument, continued.", "second": "The second."},
    )


def _documented(ctx: ToolContext, word: str, limit: int = 3) -> str:
    """Echo a word.

    Args:
        word: The word.
        limit: At most this many times.

    """
    return " ".join([word] * limit)


def test_types_defaults_and_validation_follow_the_signature() -> None:
    spec = tool_spec(_documented)
    params = spec.schema()["function"]["parameters"]
    assert params["required"] == ["word"]
    assert params["properties"]["limit"] == {
        "type": "integer",
        "default": 3,
        "description": "At most this many times.",
    }
    ctx = ToolContext(session=None, account="acct", as_of=date(2025, 1, 1))  # type: ignore[arg-type]
    assert spec.call(ctx, {"word": "hi", "limit": 2}) == "hi hi"
    with pytest.raises(ValidationError):
        spec.call(ctx, {"limit": 2})


def _undocumented(ctx: ToolContext, word: str, other: str) -> str:
    """Do something.

    Args:
        word: The word.
        typo: Not a parameter.

    """
    return word


def _no_ctx(word: str) -> str:
    """Do something.

    Args:
        word: The word.

    """
    return word


def _no_description(ctx: ToolContext, word: str) -> str:
    return word


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (_undocumented, "undescribed: other; unknown: typo"),
        (_no_ctx, "first parameter must be `ctx: ToolContext`"),
        (_no_description, "must describe the tool"),
    ],
)
def test_a_docstring_that_disagrees_with_the_signature_fails_at_derivation(
    fn: object, message: str
) -> None:
    with pytest.raises(PromptError, match=message):
        tool_spec(fn)  # type: ignore[arg-type]


def test_the_eval_baseline_hashes_every_file_that_defines_what_the_model_sees() -> None:
    import inspect

    from app.agent.parts import AgentDecision
    from evals.baseline import tool_files
    from tools import schema

    defining = {inspect.getfile(f) for f in (*TOOLS, AgentDecision)} | {schema.__file__}
    assert defining <= {str(p) for p in tool_files()}
