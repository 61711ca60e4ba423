"""Assemble SQL from the semantic model's trusted fragments; every value enters as a literal node.

The compiler writes query skeletons that contain only semantic-model expressions, identifiers it
chose, and placeholders (`__v0`, `__v1`, ...). `Params.bind` parses the skeleton with sqlglot and
replaces each placeholder with a literal node, so no user text is ever spliced into SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlglot
from sqlglot import exp

_PREFIX = "__v"


@dataclass
class Params:
    """Values waiting to be bound into a skeleton as literal nodes."""

    values: list[exp.Expression] = field(default_factory=list)

    def add(self, value: str | int | Decimal | date | datetime | None) -> str:
        """Register a value; return the placeholder to write in the skeleton."""
        self.values.append(literal(value))
        return f"{_PREFIX}{len(self.values) - 1}"

    def add_list(self, values: tuple[str | int | Decimal, ...] | list[str]) -> str:
        """Register several values; return a comma-separated list of placeholders."""
        return ", ".join(self.add(v) for v in values)

    def bind(self, skeleton: str) -> exp.Expression:
        """Parse the skeleton and replace placeholders by their literal nodes."""
        tree = sqlglot.parse_one(skeleton, read="duckdb")

        def _sub(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and not node.table and node.name.startswith(_PREFIX):
                return self.values[int(node.name[len(_PREFIX) :])].copy()
            return node

        return tree.transform(_sub)


def literal(value: str | int | Decimal | date | datetime | None) -> exp.Expression:
    """A sqlglot literal for a Python value (timestamps and dates typed)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, int | Decimal):
        return exp.Literal.number(str(value))
    return exp.Literal.string(str(value))


def model_sql(fragment: str, specials: dict[str, str]) -> str:
    """Substitute `@name` tokens of a model fragment by already-registered placeholders."""
    out = fragment
    for name, placeholder in sorted(specials.items(), key=lambda kv: -len(kv[0])):
        out = out.replace(f"@{name}", placeholder)
    if "@" in out:
        raise ValueError(f"unbound token in model fragment: {fragment}")
    return out
