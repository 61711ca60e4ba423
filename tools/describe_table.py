"""Tool: a warehouse table → its columns with types, units and meaning."""

from __future__ import annotations

import difflib

from app.semantic.catalog import TableInfo, is_tenant_column, warehouse_catalog
from tools.context import ToolContext


def _joins(ctx: ToolContext, table: str) -> list[str]:
    out = []
    for j in ctx.session.model.joins:
        if j.from_ == table:
            out.append(f"{table}.{j.column} → {j.to}.id")
        elif j.to == table:
            out.append(f"{j.from_}.{j.column} → {table}.id")
    return out


def render_table(info: TableInfo, joins: list[str]) -> str:
    """A table's description as text for the model."""
    kind = "view" if info.view_of else "table"
    lines = [f"{kind} {info.name}: {info.comment}"]
    lines.append(
        "merchant_id (the account) is filtered automatically; never filter or group on it."
    )
    lines.append("Columns (name TYPE: meaning):")
    for c in info.columns:
        if is_tenant_column(c.name):
            continue
        unit = " [money, minor units of the row's currency]" if c.money else ""
        lines.append(f"- {c.name} {c.type}{unit}: {c.comment or 'no description'}")
    if joins:
        lines.append(f"Joins (many-to-one): {'; '.join(joins)}")
    return "\n".join(lines)


def describe_table(ctx: ToolContext, table: str) -> str:
    """Describe one warehouse table: every column with its type, unit and meaning, and its joins.

    Use it before writing SQL, to check column names and which columns hold money.

    Args:
        table: A warehouse table name, e.g. 'charges' or 'invoices'.

    """
    catalog = warehouse_catalog()
    name = table.strip().strip('"').lower()
    info = catalog.get(name)
    if info is None:
        close = difflib.get_close_matches(name, list(catalog), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        return f"Unknown table '{table}'.{hint} Valid tables: {', '.join(catalog)}."
    return render_table(info, _joins(ctx, name))
