"""The schema a delivery is checked against: the tables and columns of data/ddl (the Sigma mirror).

A delivery's column converts to ours when DuckDB can cast it without losing meaning: integers to
wider integers, integers (never floats) to BIGINT money in minor units, any timestamp (with or
without time zone, any unit) or date to naive UTC TIMESTAMP, text to VARCHAR, BOOLEAN to BOOLEAN,
any number to DOUBLE. Sigma CSV columns are text, so each is checked by casting its values.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import AssistantError
from app.semantic.catalog import TENANT_COLUMN, warehouse_catalog

# The tables the semantic model reads: a delivery without one of them cannot answer its
# questions. The other DDL tables may be absent; they load empty, with a warning.
REQUIRED = frozenset({
    "balance_transactions", "charges", "customers", "invoices", "invoice_line_items",
    "prices", "products", "subscriptions", "subscription_item_change_events",
})  # fmt: skip
# Not a Sigma table: derived at import when a delivery lacks it (app/ingest/derive.py).
DERIVED = frozenset({"accounts"})

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
_WIDE = {"UBIGINT", "HUGEINT", "UHUGEINT"}  # cast, and a value out of range fails the import
_NUMBERS = _INTEGERS | _WIDE | {"FLOAT", "DOUBLE", "REAL"}
_TIMES = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE"}
_TIMES_TZ = {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"}


class IngestError(AssistantError):
    """The delivery cannot be imported; the message says what to fix, and where."""


@dataclass(frozen=True)
class Problem:
    """One schema mismatch: table, column, expected and found type, and the file that has it."""

    table: str
    column: str
    expected: str
    found: str
    file: str

    def message(self) -> str:
        """The mismatch as a sentence a finance user can act on."""
        if self.found == "missing":
            return (
                f"{self.table}.{self.column} is missing (expected {self.expected}) in {self.file}; "
                "re-export the table with all its Sigma columns."
            )
        return (
            f"{self.table}.{self.column} has type {self.found}, expected {self.expected}, in "
            f"{self.file}; the values cannot be converted without loss."
        )


def expected_columns() -> dict[str, list[tuple[str, str]]]:
    """Every DDL base table (views excluded): its (column, DuckDB type) in DDL order."""
    return {
        name: [(c.name, c.type) for c in info.columns]
        for name, info in warehouse_catalog().items()
        if info.view_of is None
    }


def converts(found: str, expected: str) -> bool:
    """Whether a delivered column of type `found` loads into a DDL column of type `expected`."""
    found = found.upper()
    base = found.split("(")[0]
    if found == expected:
        return True
    if expected == "BIGINT":
        return base in _INTEGERS | _WIDE or (base == "DECIMAL" and found.endswith(",0)"))
    if expected == "DOUBLE":
        return base in _NUMBERS or base == "DECIMAL"
    if expected == "TIMESTAMP":
        return base in _TIMES or found in _TIMES_TZ
    if expected == "VARCHAR":
        return base in {"VARCHAR", "JSON"}
    return False


def compare(
    table: str, found: dict[str, str], file: str, *, single_account: bool
) -> tuple[list[Problem], list[str]]:
    """Problems of a delivered table's columns against the DDL, and its extra column names."""
    problems: list[Problem] = []
    wanted = expected_columns()[table]
    lowered = {k.lower(): v for k, v in found.items()}
    for column, kind in wanted:
        if column == TENANT_COLUMN and single_account:
            continue
        have = lowered.get(column.lower())
        if have is None:
            problems.append(Problem(table, column, kind, "missing", file))
        elif not converts(have, kind):
            problems.append(Problem(table, column, kind, have, file))
    names = {c.lower() for c, _ in wanted}
    extra = sorted(c for c in found if c.lower() not in names)
    return problems, extra


def report(problems: list[Problem]) -> IngestError:
    """One error listing every problem (the first ten), so a single re-export fixes them all."""
    lines = [p.message() for p in problems[:10]]
    more = len(problems) - len(lines)
    tail = f"\n... and {more} more." if more > 0 else ""
    return IngestError(
        "The delivery does not match the Stripe schema Ledgerlens mirrors; nothing was "
        "imported and the current warehouse is unchanged:\n- " + "\n- ".join(lines) + tail
    )
