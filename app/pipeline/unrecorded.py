"""Columns a warehouse may leave empty: "the data does not record the wallet".

A dimension flagged `may_be_empty` in dimensions.yaml is looked up when a plan filters or splits on
it; when it holds no value for the account, the answer says the data does not record it, instead of
an empty result or a list of every row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from app.core.plan import CannotAnswer, QueryPlan
from app.pipeline.session import Session
from app.semantic.model import Dimension
from app.sql.compile.sqlbuild import fragment, named, table


@dataclass(frozen=True)
class Unrecorded:
    """What a plan asks of columns the account's data leaves empty."""

    refusal: CannotAnswer | None  # a filter on such a column: no row can match it
    notices: list[str]  # a breakdown by such a column: every row falls in "no value"


def check_recorded(plan: QueryPlan, session: Session, account: str) -> Unrecorded:
    """Look up, for the plan's filters and breakdowns on possibly empty columns, whether any is."""
    model = session.model
    asked = [*(f.dimension for f in plan.filters), *plan.dimensions]
    empty = {
        name: dim
        for name in dict.fromkeys(asked)
        if (dim := model.dimensions.get(name)) is not None
        and dim.may_be_empty
        and not _recorded(dim, session, account)
    }
    for f in plan.filters:
        if f.dimension in empty:
            dim = empty[f.dimension]
            wanted = " or ".join(_shown(dim, v) for v in f.values)
            return Unrecorded(
                CannotAnswer(
                    reason=f"The data does not record the {dim.label.lower()}: {dim.expr} is "
                    f"empty for every row of {dim.table} in this account, so no row can be "
                    f"matched to {wanted}.",
                    reason_class="out_of_scope",
                ),
                [],
            )
    notices = [
        f"The data does not record the {dim.label.lower()} ({dim.expr} is empty for this "
        "account): every row falls under no value."
        for name, dim in empty.items()
        if name in plan.dimensions
    ]
    return Unrecorded(None, notices)


def _recorded(dim: Dimension, session: Session, account: str) -> bool:
    """Whether the dimension's column holds a value in any of the account's rows."""
    count = exp.Count(this=fragment(dim.expr))
    select = exp.select(named(count, "n")).from_(table(dim.table), copy=False)
    rows = session.run_sql(select, account).rows
    return bool(rows and rows[0][0])


def _shown(dim: Dimension, value: object) -> str:
    """A value as the user names it ('Apple Pay' for apple_pay)."""
    words = dim.values.get(str(value)) if isinstance(dim.values, dict) else None
    return words[0].title() if words else str(value)
