"""The JSON-mode action schema, the plan draft inside it, and the checks every model plan passes.

In JSON mode each step is one reply constrained by `action_schema`: plan, sql, lookup or
cannot_answer. The plan is a *draft*: metric, dimension, list, column and measure names are enums
from the semantic model, the period is one of the keys our time parser resolved, and every list
and string has a cap, so a small model can neither misspell a name nor run away inside valid
JSON. `plan_from_draft` turns a draft into a `QueryPlan`; `check_plan` checks any model plan
(`app.agent.vet.check_plan`).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from app.agent.periods import Periods
from app.agent.vet import PlanProblem, check_plan
from app.core.plan import QueryPlan
from app.semantic.model import SemanticModel

MAX_ITEMS = 6
MAX_TEXT = 200
MAX_SQL = 1500
LOOKUP_TOOLS = ("lookup_metric", "describe_table", "sample_values")
_OPS = ["eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte"]
_GRAINS = ["none", "day", "week", "month", "quarter", "year"]
_FUNCS = ["avg", "median", "percentile", "min", "max", "count_distinct"]


def _enum(values: list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": values}


def _array(items: dict[str, Any], max_items: int, min_items: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "items": items, "maxItems": max_items}
    if min_items:
        out["minItems"] = min_items
    return out


def _text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length}


def _obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def list_columns(model: SemanticModel) -> list[str]:
    """Every column name of every list, once, in catalogue order."""
    return list(dict.fromkeys(c.name for s in model.lists.values() for c in s.columns))


def plan_schema(model: SemanticModel, periods: Periods) -> dict[str, Any]:
    """The plan draft: names as enums from the semantic model, the period as a parser key."""
    dims = [d for d in model.dimensions if d != "account"]
    columns = list_columns(model)
    filter_dims = list(dict.fromkeys([*dims, "state", *columns]))
    return _obj(
        {
            "metrics": _array(_enum(list(model.metrics)), 3, 1),
            "period": _enum(periods.keys),
            "dimensions": _array(_enum(dims), 2),
            "filters": _array(
                _obj(
                    {
                        "dimension": _enum(filter_dims),
                        "op": _enum(_OPS),
                        "values": _array(_text(40), 5, 1),
                    },
                    ["dimension", "op", "values"],
                ),
                3,
            ),
            "grain": _enum(_GRAINS),
            "compare": _enum(["none", "previous_period", "same_period_last_year"]),
            "top": _obj(
                {"direction": _enum(["top", "bottom"]), "n": {"type": "integer", "minimum": 1}},
                ["direction", "n"],
            ),
            "list": _enum(["none", *model.lists]),
            "columns": _array(_enum(columns), MAX_ITEMS),
            "order": _obj(
                {"column": _enum(columns), "direction": _enum(["asc", "desc"])},
                ["column", "direction"],
            ),
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
            "statistic": _obj(
                {
                    "func": _enum(_FUNCS),
                    "measure": _enum(list(model.measures)),
                    "p": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                },
                ["func", "measure"],
            ),
            "by_currency": {"type": "boolean"},
            "assumptions": _array(_text(160), 2),
        },
        ["metrics", "period"],
    )


def action_schema(model: SemanticModel, periods: Periods) -> dict[str, Any]:
    """One step of the agent in JSON mode: plan, sql, lookup or cannot_answer."""
    return {
        "anyOf": [
            _obj(
                {"action": {"const": "plan"}, "plan": plan_schema(model, periods)},
                ["action", "plan"],
            ),
            _obj({"action": {"const": "sql"}, "sql": _text(MAX_SQL)}, ["action", "sql"]),
            _obj(
                {
                    "action": {"const": "lookup"},
                    "tool": _enum(list(LOOKUP_TOOLS)),
                    "name": _text(60),
                    "column": _text(60),
                },
                ["action", "tool", "name"],
            ),
            _obj(
                {"action": {"const": "cannot_answer"}, "reason": _text(MAX_TEXT)},
                ["action", "reason"],
            ),
        ]
    }


def capped(schema: Any, max_items: int = MAX_ITEMS, max_length: int = MAX_TEXT) -> Any:
    """A copy of a JSON schema with a `maxItems` on every array and `maxLength` on every string."""
    if isinstance(schema, list):
        return [capped(s, max_items, max_length) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: capped(v, max_items, max_length) for k, v in schema.items()}
    kinds = out.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "array" in kinds:
        out.setdefault("maxItems", max_items)
    if "string" in kinds and "enum" not in out and "format" not in out:
        out.setdefault("maxLength", max_length)
    return out


def plan_from_draft(draft: dict[str, Any], model: SemanticModel, periods: Periods) -> QueryPlan:
    """The QueryPlan a JSON-mode draft stands for; PlanProblem when it is not a valid plan."""
    choice = periods.get(str(draft.get("period")))
    if choice is None:
        raise PlanProblem(f"period must be one of {', '.join(periods.keys)}")
    grain = draft.get("grain") if draft.get("grain") not in (None, "none") else periods.grain
    top = draft.get("top")
    metrics = list(draft.get("metrics") or [])
    stat = draft.get("statistic")
    raw: dict[str, Any] = {
        "metrics": metrics,
        "dimensions": draft.get("dimensions") or [],
        "filters": draft.get("filters") or [],
        "time": choice.range.model_dump() if choice.range is not None else None,
        "grain": grain,
        "by_currency": bool(draft.get("by_currency")),
        "columns": draft.get("columns") or [],
        "order": draft.get("order"),
        "limit": draft.get("limit"),
        "assumptions": [
            {"key": f"model_{i}", "text": t} for i, t in enumerate(draft.get("assumptions") or [])
        ],
    }
    if draft.get("compare") not in (None, "none"):
        raw["comparison"] = {"kind": draft["compare"]}
    if isinstance(top, dict) and metrics:
        raw["ranking"] = {"metric": metrics[0], **top}
    if draft.get("list") not in (None, "none"):
        raw["listing"] = draft["list"]
    if isinstance(stat, dict):
        raw["aggregate"] = stat
    try:
        plan = QueryPlan.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanProblem(f"{where}: {first['msg']}") from err
    return check_plan(plan, model, periods)
