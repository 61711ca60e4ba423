"""The semantic model summary every agent request starts with, the same for every question.

It sits right after the system prompt so a server's prompt cache (llama.cpp's slot cache,
OpenAI's prefix cache) reuses the whole prefix from one question to the next: the order is fixed
(the YAML's order), nothing in it depends on the question, the date or the account, and it is
cut to the token budget from the end, never by relevance. What a question needs beyond it (the
definitions of the metrics it names, its periods) goes in the short question part at the end.
"""

from __future__ import annotations

from sqlglot import exp, parse_one

from app.agent.tokens import encoding
from app.semantic.catalog import is_tenant_column, warehouse_catalog
from app.semantic.model import SemanticModel

MAX_TABLE_COLUMNS = 12
ALWAYS_COLUMNS = ("id", "created", "currency", "status", "amount")


def _metric_line(model: SemanticModel, name: str) -> str:
    m = model.metrics[name]
    label = f" ({m.label})" if m.label.lower().replace(" ", "_") != name else ""
    return f"- {name}{label}"


def _list_line(model: SemanticModel, name: str) -> str:
    spec = model.lists[name]
    states = ", ".join(spec.states)
    return f"- {name}: shows {', '.join(spec.default)}; states {states}"


def _table_line(name: str, used: set[str]) -> str:
    info = warehouse_catalog()[name]
    wanted = used | set(ALWAYS_COLUMNS)
    cols = [c.name for c in info.columns if c.name in wanted and not is_tenant_column(c.name)]
    more = len(info.columns) - 1 - min(len(cols), MAX_TABLE_COLUMNS)
    tail = f", +{more} more" if more > 0 else ""
    return f"- {name}({', '.join(cols[:MAX_TABLE_COLUMNS])}{tail})"


def _sections(model: SemanticModel) -> list[tuple[str, list[str]]]:
    dims = [d for d in model.dimensions if d != "account"]
    return [
        ("Metrics (name (label)):", [_metric_line(model, m) for m in model.metrics]),
        ("Dimensions:", [", ".join(dims)]),
        ("Row measures (for a statistic):", [", ".join(model.measures)]),
        ("Tables (for SQL; describe_table gives every column):", _table_lines(model)),
        ("Lists (row by row):", [_list_line(model, n) for n in model.lists]),
    ]


def _table_lines(model: SemanticModel) -> list[str]:
    """The tables the semantic model reads, with the columns it uses, in name order."""
    used = columns_used(model)
    names = sorted(t for t in warehouse_catalog() if t in used)
    return [_table_line(t, used[t]) for t in names]


_CACHE: dict[tuple[str, int], str] = {}


def stable_summary(model: SemanticModel, budget_tokens: int) -> str:
    """The model summary in a fixed order, cut from the end to fit `budget_tokens` tokens."""
    key = (model.sha256, budget_tokens)
    if key not in _CACHE:
        _CACHE[key] = _render(model, budget_tokens)
    return _CACHE[key]


def _render(model: SemanticModel, budget_tokens: int) -> str:
    enc = encoding()
    lines: list[str] = []
    used = 0
    for head, body in _sections(model):
        for i, line in enumerate(body):
            text = f"{head}\n{line}" if i == 0 else line
            cost = len(enc.encode(text, disallowed_special=())) + 1
            if used + cost > budget_tokens:
                lines.append("(more via lookup)")
                return "\n".join(lines)
            lines.append(text)
            used += cost
    return "\n".join(lines)


def columns_used(model: SemanticModel) -> dict[str, set[str]]:
    """Columns the semantic model's expressions read, by table."""
    used: dict[str, set[str]] = {}

    def add(sql: str | None, default_table: str | None = None) -> None:
        if not sql:
            return
        tree = parse_one(sql.replace("@", "__at_"), read="duckdb")
        for col in tree.find_all(exp.Column):
            table = col.table or default_table
            if table and not col.name.startswith("__at_"):
                used.setdefault(table.lower(), set()).add(col.name.lower())

    for m in model.metrics.values():
        for sql in (m.measure, m.time, m.currency, m.entity, *m.where):
            add(sql)
        add(m.template, m.table)
    for d in model.dimensions.values():
        if d.table != "*":
            add(d.expr)
            add(d.key)
    for j in model.joins:
        used.setdefault(j.from_, set()).add(j.column)
        used.setdefault(j.to, set()).add("id")
    for spec in model.lists.values():
        for sql in (spec.time, spec.amount, spec.currency, *(c.expr for c in spec.columns)):
            add(sql)
    return used
