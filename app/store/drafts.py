"""Eval cases from the app-state store, in the case format of EVALS.md 5.3 (a plain YAML list).

Thumbs-down feedback becomes DRAFT cases: `reference_sql: null` (the case loader refuses an answer
case without one, so a draft cannot run by accident) with comments carrying the correction and
the SQL that was judged wrong; a person writes the reference query and checks `compare`. Verified
answers become complete cases whose reference is the query the owner verified, with the plan as a
`plan_matches` expectation. The product never imports the eval suite, so this module writes the
format and `tests/test_store_export.py` loads what it writes with `evals/cases.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlglot
import yaml
from sqlglot.errors import SqlglotError

from app.core.answer import Answer, Column
from app.core.plan import QueryPlan
from app.store.records import Feedback, Verified

DRAFT_MARK = "reference_sql: null  # DRAFT: a person must write the correct query here"
_HEADER = (
    "# Eval cases exported from Ledgerlens's app-state store (case format: EVALS.md 5.3).\n"
    "# Copy a case into evals/cases/<area>.yaml once it is complete.\n"
)


def _slug(prefix: str, number: int, question: str) -> str:
    words = re.findall(r"[a-z0-9]+", question.casefold())[:8]
    return "_".join([prefix, str(number), *words])


def _rule(column: Column, answer: Answer, names: list[str]) -> dict[str, Any]:
    if column.kind == "money":
        if "currency" in names:
            return {"kind": "money", "currency_column": "currency"}
        if answer.currency:
            return {"kind": "money", "currency": answer.currency.upper()}
        return {"kind": "money", "scale": 2}
    if column.kind == "number":  # raw SQL numerics: compared as values within 1e-6
        return {"kind": "ratio"}
    return {"kind": column.kind}


def compare_rules(answer: Answer) -> dict[str, Any]:
    """`expected.compare` for a reference with the answer's columns (kinds from the answer)."""
    names = [c.name for c in answer.columns]
    ranked = answer.plan is not None and answer.plan.ranking is not None
    return {
        "columns": {c.name: _rule(c, answer, names) for c in answer.columns},
        "order": "strict" if ranked else "ignore",
        "extra_columns": "allow",
    }


def _value(v: str | int | Decimal) -> str | int:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else str(v)
    return v


def plan_expectation(plan: QueryPlan) -> dict[str, Any]:
    """`expected.plan` naming everything the plan computes (period end written inclusive)."""
    out: dict[str, Any] = {"metrics": list(plan.metrics), "dimensions": list(plan.dimensions)}
    if plan.time is not None:
        last = plan.time.end - timedelta(days=1)
        out["period"] = {"start": plan.time.start.isoformat(), "end": last.isoformat()}
    out["grain"] = plan.grain
    out["filters"] = {
        f.dimension: {"op": f.op, "values": [_value(v) for v in f.values]} for f in plan.filters
    } or None
    if plan.comparison is not None:
        out["comparison"] = plan.comparison.kind
    if plan.ranking is not None:
        out["ranking"] = plan.ranking.model_dump()
    optional = {"listing": plan.listing, "limit": plan.limit, "currency": plan.currency}
    out.update({k: v for k, v in optional.items() if v is not None})
    if plan.by_currency:
        out["by_currency"] = True
    return out


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def _dump(case: dict[str, Any]) -> str:
    return yaml.dump(
        [case],
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=None,
    )


def pretty_sql(sql: str) -> str:
    """The DuckDB SQL laid out on several lines (as written when it does not parse)."""
    try:
        return "\n".join(sqlglot.transpile(sql, read="duckdb", write="duckdb", pretty=True))
    except SqlglotError:
        return sql


def _comment(lines: Iterable[str]) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for text in lines for line in text.splitlines())


def draft_case(item: Feedback) -> str:
    """One thumbs-down answer as a DRAFT case (YAML text with comments) for a person to finish."""
    when = item.created.date().isoformat()
    notes = [f"DRAFT from feedback {item.id}: thumbs down by {item.user} on {when}."]
    if item.correction:
        notes.append(f"Correction: {item.correction}")
    notes.append(f"The assistant answered ({item.answer.status}): {item.answer.headline}")
    if item.sql:
        notes += ["It ran (judged wrong; do not copy it as the reference):", pretty_sql(item.sql)]
    notes.append(
        "To complete: write reference_sql (runs through the guard; no clock), check "
        "compare.columns against its columns, and drop the `draft` tag."
    )
    case = {
        "name": _slug("feedback", item.id, item.question),
        "tags": ["feedback", "draft"],
        "difficulty": "moderate",
        "inputs": {
            "question": item.question,
            "as_of": item.as_of.isoformat() if item.as_of else None,
            "account": item.account,
            "history": item.history,
        },
        "expected": {
            "outcome": "answer",
            "reference_sql": None,
            "compare": compare_rules(item.answer),
        },
        "scorers": ["result_matches"],
    }
    text = _dump(case).replace("reference_sql: null", DRAFT_MARK, 1)
    return _comment(notes) + text


def verified_case(item: Verified, *, stale: str | None = None) -> str:
    """One verified answer as a complete case: its SQL is the reference, its plan expected."""
    notes = [
        f"Verified by {item.by} on {item.at.date().isoformat()} (verified answer {item.id}; "
        f"semantic model {item.model_sha[:12]}, warehouse schema {item.schema_fingerprint[:12]}).",
        "reference_sql is the query the assistant ran and the owner verified.",
    ]
    if stale:
        notes.append(f"STALE: {stale} since it was verified; check it before relying on it.")
    expected: dict[str, Any] = {
        "outcome": "answer",
        "reference_sql": pretty_sql(item.sql) if item.sql else None,
        "compare": compare_rules(item.answer),
    }
    scorers = ["result_matches"]
    if item.plan is not None:
        expected["plan"] = plan_expectation(item.plan)
        scorers.append("plan_matches")
    case = {
        "name": _slug("verified", item.id, item.question),
        "tags": ["verified"],
        "difficulty": "simple",
        "inputs": {
            "question": item.question,
            "as_of": item.as_of.isoformat() if item.as_of else None,
            "account": item.answer.account or item.account,
            "history": item.history,
        },
        "expected": expected,
        "scorers": scorers,
    }
    return _comment(notes) + _dump(case)


def cases_file(cases: Iterable[str]) -> str:
    """A case file (a plain list) of the given case texts; an empty list when there are none."""
    body = "\n".join(cases)
    return _HEADER + (f"\n{body}" if body else "[]\n")
