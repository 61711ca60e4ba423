"""The semantic model's building blocks that lists and joins share: joins, list specs, tables_in.

`app.semantic.model` holds the rest (metrics, dimensions, reports, the model and its join paths)
and re-exports these names.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

import sqlglot
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp


class Part(BaseModel):
    """A part of the semantic model as the YAML gives it: no unknown keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Join(Part):
    """A many-to-one edge: `from_.column` references `to.id`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: str = Field(alias="from")
    column: str
    to: str


class ListColumn(Part):
    """A column of a row-by-row list: its SQL, kind and the words that name it."""

    name: str
    expr: str
    kind: Literal["label", "date", "money", "count", "number"]
    label: str = ""
    synonyms: tuple[str, ...] = ()
    key: str | None = Field(None, description="The id behind a label; groups are formed on it.")
    sort: str | None = Field(None, description="What ordering by this column sorts on.")
    via: str | None = Field(
        None,
        description="A child table rolled up per row (labels joined with ', ', numbers summed); "
        "`expr` is read on its rows.",
    )
    also: tuple[str, ...] = Field((), description="Columns shown beside it when it is named.")
    currency: str | None = Field(
        None, description="A money column's own currency (read on another table than the list's)."
    )
    stripe_id: str | None = Field(
        None,
        description="The object's Stripe id, shown under this column's name instead of `expr` "
        "(a number) when the question names rows by Stripe id.",
    )
    local: bool = Field(
        False,
        description="`expr` is a UTC timestamp, shown as the date in the account's time zone.",
    )

    @model_validator(mode="before")
    @classmethod
    def _local_sorts_on_time(cls, data: Any) -> Any:
        """A local date sorts on its timestamp unless told otherwise."""
        if isinstance(data, dict) and data.get("local") and not data.get("sort"):
            return {**data, "sort": data.get("expr")}
        return data


class ListSpec(Part):
    """An entity that can be listed row by row: its column catalogue and the states words imply."""

    name: str
    label: str
    table: str
    synonyms: tuple[str, ...]
    time: str
    amount: str | None = None
    currency: str | None = None
    columns: tuple[ListColumn, ...]
    default: tuple[str, ...] = Field(description="The columns shown when none are named.")
    base: tuple[str, ...] = Field((), description="Shown before the columns a question names.")
    key: str = Field(description="The column that identifies a row (the last tie-break).")
    recent: str = Field(description="The column 'most recent' orders by.")
    order: str | None = Field(None, description="The default order column (descending).")
    states: dict[str, tuple[str, ...]]
    joins: tuple[Join, ...] = Field(
        (), description="Many-to-one edges only this list may use (polymorphic source ids)."
    )
    state_times: dict[str, str] = Field(
        default_factory=dict,
        description="When a state began, if not `time` ('canceled last month': when they ended).",
    )
    aliases: dict[str, str] = Field(
        default_factory=dict, description="Other words for a state ('lose' → lost)."
    )
    parent: str | None = Field(
        None,
        description="The column naming the object each row belongs to (a fee component's "
        "balance transaction): 'the 5 most recent transactions' counts those objects.",
    )
    parent_words: tuple[str, ...] = Field(
        (), description="Words that name the parent objects ('transactions')."
    )
    places: tuple[str, ...] = Field(
        (),
        description="Where its rows are: 'refunds on our balance' lists this entity, and a "
        "state of it named before the place ('refunds') is read as that state.",
    )

    def column(self, name: str) -> ListColumn | None:
        """The catalogue column called `name` (None if there is none)."""
        return next((c for c in self.columns if c.name == name), None)

    def describes(self, name: str, group: str) -> bool:
        """Whether column `name` describes the group column's entity (a customer's email)."""
        column, owner = self.column(name), self.column(group)
        if name.startswith(group) or column is None or owner is None:
            return name.startswith(group)
        tables = tables_in(column.expr)
        return bool(tables) and tables <= tables_in(owner.expr) and self.table not in tables


@cache
def tables_in(sql: str) -> frozenset[str]:
    """Table names referenced as `table.column` in a trusted model expression."""
    tree = sqlglot.parse_one(sql.replace("@", "__at_"), read="duckdb")
    return frozenset(c.table for c in tree.find_all(exp.Column) if c.table)
