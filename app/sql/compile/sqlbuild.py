"""Assemble SQL from the semantic model's trusted fragments; every value enters as a literal node.

The compiler writes query skeletons that contain only semantic-model expressions, identifiers it
chose, and placeholders (`__v0`, `__v1`, ...). `Params.bind` parses the skeleton with sqlglot and
replaces each placeholder with a literal node, so no user text is ever spliced into SQL text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlglot
from sqlglot import exp

_PREFIX = "__v"
_POSITIONS = ("line", "col", "start", "end")


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
        tree, slots = _skeleton(skeleton)
        return _bound_copy(tree, slots, self.values)


@functools.lru_cache(maxsize=512)
def _skeleton(skeleton: str) -> tuple[exp.Expression, dict[int, int]]:
    """The parsed skeleton and its placeholders (node id -> value index), cached.

    The same plan shape gives the same text whatever its values, so a shape is parsed once.
    Source positions are dropped: nothing reads them, and every later copy would copy them.
    """
    tree = sqlglot.parse_one(skeleton, read="duckdb")
    assert isinstance(tree, exp.Expression)  # a SELECT
    slots: dict[int, int] = {}
    for node in tree.walk():
        if node._meta is not None:
            for key in _POSITIONS:
                node._meta.pop(key, None)
            if not node._meta:
                node._meta = None
        if isinstance(node, exp.Column) and not node.table and node.name.startswith(_PREFIX):
            slots[id(node)] = int(node.name[len(_PREFIX) :])
    return tree, slots


def _bound_copy(
    tree: exp.Expression, slots: dict[int, int], values: list[exp.Expression]
) -> exp.Expression:
    """Copy the cached tree in one pass, putting a copy of its literal in each placeholder's place.

    The same walk as sqlglot's own deep copy (Expression.__deepcopy__), with the substitution
    done on the way instead of by a second transform() over the copy.
    """
    root = tree.__class__()
    stack: list[tuple[exp.Expr, exp.Expr]] = [(tree, root)]
    while stack:
        node, new = stack.pop()
        if node.comments is not None:
            new.comments = list(node.comments)
        if node._meta is not None:
            new._meta = dict(node._meta)
        for key, value in node.args.items():
            if isinstance(value, exp.Expr):
                new.set(key, _child(value, slots, values, stack))
            elif type(value) is list:
                new.args[key] = []
                for v in value:
                    item = _child(v, slots, values, stack) if isinstance(v, exp.Expr) else v
                    new.append(key, item)
            else:
                new.args[key] = value
    return root


def _child(
    node: exp.Expr,
    slots: dict[int, int],
    values: list[exp.Expression],
    stack: list[tuple[exp.Expr, exp.Expr]],
) -> exp.Expr:
    slot = slots.get(id(node))
    if slot is not None:
        return values[slot].copy()
    new = node.__class__()
    stack.append((node, new))
    return new


def literal(value: str | int | Decimal | date | datetime | None) -> exp.Expression:
    """A sqlglot literal for a Python value (timestamps and dates typed)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, datetime):  # Cast built directly: exp.cast would parse the type name
        timestamp = exp.DataType(this=exp.DataType.Type.TIMESTAMP)
        return exp.Cast(this=exp.Literal.string(value.isoformat(sep=" ")), to=timestamp)
    if isinstance(value, date):
        day = exp.DataType(this=exp.DataType.Type.DATE)
        return exp.Cast(this=exp.Literal.string(value.isoformat()), to=day)
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
