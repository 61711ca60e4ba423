"""Statements: finance reports of a fixed shape (roll-forwards, ledger statements, aging, tie-outs).

A statement is a vetted query of the warehouse over one period, declared in
data/semantic/statements.yaml with its columns, the words naming it and the words naming its
columns. Its query reads placeholders the compiler binds (`app.sql.compile.statements`):

  @start, @end              the period's local midnights (timestamps in the account's time zone)
  @start_utc, @end_utc      the same instants in UTC (for columns stored in UTC)
  @as_of                    the as-of day (a date); @as_of_end_utc its end, in UTC
  @tz                       the account's reporting time zone (a string)

Money columns hold integer minor units of the row's `currency`; the compiler shows them in major
units. Every statement keeps one row set per original currency (nothing is converted).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Literal

import sqlglot
from pydantic import BaseModel, ConfigDict, model_validator

_TOKEN = re.compile(r"@(\w+)")
PLACEHOLDERS = frozenset({"start", "end", "start_utc", "end_utc", "as_of", "as_of_end_utc", "tz"})


class StatementColumn(BaseModel):
    """One output column of a statement: its name, label and kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    label: str
    kind: Literal["label", "date", "money", "count"] = "label"


class Statement(BaseModel):
    """A finance report of a fixed shape: its words, columns, definition and vetted query."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    label: str
    definition: str
    metrics: tuple[str, ...]
    words: tuple[str, ...]
    column_words: tuple[str, ...] = ()
    with_words: tuple[str, ...] = ()  # when given, the words name the statement only beside one
    together: tuple[tuple[str, ...], ...] = ()  # a phrase of each group, together, names it too
    period: Literal["range", "as_of"] = "range"
    grains: tuple[str, ...] = ()  # a grain the statement already has ("each month"): no series
    columns: tuple[StatementColumn, ...]
    order: tuple[str, ...] = ()
    sql: str

    @model_validator(mode="after")
    def _query_fits(self) -> Statement:
        tree = sqlglot.parse_one(_tokens_as_params(self.sql), read="duckdb")
        names = {p.name for p in tree.find_all(sqlglot.exp.Placeholder)}
        if unknown := names - PLACEHOLDERS:
            raise ValueError(f"statement {self.name}: unknown placeholders {sorted(unknown)}")
        if not isinstance(tree, sqlglot.exp.Query) or tree.named_selects != self.column_names:
            raise ValueError(f"statement {self.name}: the query's columns are not {self.columns}")
        if any(c.kind == "money" for c in self.columns) and "currency" not in self.column_names:
            raise ValueError(f"statement {self.name}: money needs a currency column")
        return self

    @property
    def column_names(self) -> list[str]:
        """The output column names, in order."""
        return [c.name for c in self.columns]


def _tokens_as_params(sql: str) -> str:
    """`@name` tokens as `:name` parameters, the way model fragments are parsed."""
    return _TOKEN.sub(r":\1", sql)


def check_statements(statements: Mapping[str, Statement], metrics: Collection[str]) -> None:
    """Every metric a statement names exists in the model."""
    for s in statements.values():
        if unknown := set(s.metrics) - set(metrics):
            raise ValueError(f"statement {s.name}: unknown metrics {sorted(unknown)}")
