"""Answers and query results printed for a person in the terminal (rich, imported on use)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.answer import Answer
from app.explain.headline import TOTAL, shown_table
from app.semantic.format import format_value, llm_usage_text, plural

if TYPE_CHECKING:
    from rich.console import Console

    from app.run.warehouse import Result


def render_answer(answer: Answer, console: Console) -> None:
    """Print an Answer: headline, table, explanation, SQL and assumptions."""
    from rich.markup import escape
    from rich.text import Text

    console.print(Text(answer.headline, style="bold"), highlight=False)
    if answer.read_back:
        console.print(Text(f"Read as: {answer.read_back}", style="cyan"), highlight=False)
    if answer.ignored:
        words = ", ".join(f"'{w}'" for w in answer.ignored)
        console.print(Text(f"Ignored: {words}", style="yellow"), highlight=False)
    for notice in answer.notices:
        console.print(f"[yellow]{escape(notice)}[/yellow]")
    if answer.clarification:
        for choice in answer.clarification.choices:
            console.print(f"  • {escape(choice.label)}: {escape(choice.question)}")
    if answer.refusal and answer.refusal.suggestions:
        console.print("Try: " + " | ".join(escape(s) for s in answer.refusal.suggestions))
    if answer.status != "answered":
        return
    if answer.bridge:  # a "why" answer: the change, driver by driver, before the table
        _print_bridge(answer, console)
    if answer.rows and (len(answer.rows) > 1 or len(answer.columns) > 1):
        _print_table(answer, console)
    if answer.explanation:
        console.print(Text(answer.explanation))
    for a in answer.assumptions:
        console.print(f"[dim]• {escape(a.text)}[/dim]")
    if answer.freshness:
        console.print(f"[dim]Data loaded up to {answer.freshness:%Y-%m-%d %H:%M} UTC.[/dim]")
    if answer.llm is not None:
        console.print(f"[dim]Model: {escape(llm_usage_text(answer.llm))}[/dim]", highlight=False)
    console.print("[dim]SQL:[/dim]")
    console.print(answer.sql or "", markup=False, highlight=False, soft_wrap=True)


def _print_table(answer: Answer, console: Console) -> None:
    """The answer's rows (and Total row) as a grid, or one record per row when too wide."""
    from rich.markup import escape
    from rich.table import Table

    shown = shown_table(answer)
    names = [c.name for c in shown.columns]
    cur_idx = names.index("currency") if "currency" in names else None
    grain = answer.plan.grain if answer.plan is not None else None
    headers = tuple(c.label or c.name for c in shown.columns)
    cells = []
    for row in shown.rows[:50]:
        cur = str(row[cur_idx]) if cur_idx is not None else None
        cells.append(
            tuple(
                format_value(v, c, cur, grain=grain)
                for v, c in zip(row, shown.columns, strict=False)
            )
        )
    total: tuple[str, ...] | None = None
    if shown.total is not None:
        cur = str(shown.rows[0][cur_idx]) if cur_idx is not None else None
        label = TOTAL if len(shown.rows) <= 50 else f"{TOTAL} ({plural(len(shown.rows), 'row')})"
        total = tuple(
            label if v == TOTAL else "" if v is None else format_value(v, c, cur)
            for v, c in zip(shown.total, shown.columns, strict=True)
        )
    if _too_wide(headers, tuple(cells) + ((total,) if total else ()), console.width):
        _print_records(headers, tuple(cells) + ((total,) if total else ()), console)
    else:
        table = Table(show_lines=False)
        for c, head in zip(shown.columns, headers, strict=True):
            right = c.kind in ("money", "count", "ratio")
            table.add_column(escape(head), justify="right" if right else "left")
        for cell_row in cells:
            table.add_row(*[escape(v) for v in cell_row])  # data, never markup
        if total is not None:
            table.add_section()
            table.add_row(*[escape(v) for v in total], style="bold")
        console.print(table)
    if len(answer.rows) > 50 or answer.truncated:
        console.print(
            f"[dim]{plural(len(answer.rows), 'row')}"
            f"{' (truncated)' if answer.truncated else ''}; use --json for all[/dim]"
        )


def _print_bridge(answer: Answer, console: Console) -> None:
    """A change's bridge, one line a step: the start, each driver's signed amount, the end."""
    from rich.markup import escape

    money = next((c for c in answer.columns if c.kind == "money"), None)
    currency = answer.currency
    pad = max(len(step.label) for step in answer.bridge)
    for step in answer.bridge:
        value = format_value(step.amount, money, currency) if money else str(step.amount)
        sign = "+" if step.kind == "change" and step.amount > 0 else ""
        console.print(f"  {escape(step.label.ljust(pad))}  {sign}{escape(value)}", highlight=False)


def print_result(result: Result, sql: str, console: Console) -> None:
    """A pasted query's result: a grid, or one record per row when too wide; then the SQL run."""
    from rich.markup import escape
    from rich.table import Table

    if _too_wide(result.columns, result.rows, console.width):
        _print_records(result.columns, result.rows[:100], console)
    else:
        table = Table()
        for c in result.columns:
            table.add_column(escape(c))
        for row in result.rows[:100]:
            table.add_row(*["—" if v is None else escape(str(v)) for v in row])
        console.print(table)
    console.print(
        f"[dim]{plural(len(result.rows), 'row')}{' (truncated)' if result.truncated else ''}. "
        f"SQL run:[/dim] {escape(sql)}",
        highlight=False,
    )


_NARROWEST = 8  # characters a wrapped grid column keeps before the grid turns unreadable


def _too_wide(columns: tuple[str, ...], rows: tuple[tuple[Any, ...], ...], width: int) -> bool:
    """Whether a grid would not fit even with each column wrapped to a few characters.

    Then each row is printed down; a grid that only needs wrapping stays a grid.
    """
    widths = [len(c) for c in columns]
    for row in rows[:100]:
        widths = [max(w, len(str(v))) for w, v in zip(widths, row, strict=True)]
    return sum(min(w, _NARROWEST) + 3 for w in widths) + 1 > width


def _print_records(
    columns: tuple[str, ...], rows: tuple[tuple[Any, ...], ...], console: Console
) -> None:
    """Each row as `column  value` lines, empty values left out and counted.

    The columns empty in every row are named once at the end.
    """
    from rich.markup import escape

    pad = max(len(c) for c in columns)
    always_empty = set(columns)
    for n, row in enumerate(rows, start=1):
        if len(rows) > 1:
            console.print(f"[bold]── row {n} ──[/bold]")
        empty = 0
        for c, v in zip(columns, row, strict=True):
            if v is None or v == "":
                empty += 1
                continue
            always_empty.discard(c)
            console.print(f"{escape(c.ljust(pad))}  {escape(str(v))}", highlight=False)
        if empty:
            console.print(f"[dim]({plural(empty, 'empty column')} not shown)[/dim]")
    if rows and always_empty:
        names = ", ".join(c for c in columns if c in always_empty)
        console.print(f"[dim]Empty in every row: {escape(names)}[/dim]", highlight=False)
