"""An Answer's rows as a sortable table formatted by the one formatter, and as exact CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from app.core.answer import Answer, Column
from app.explain.headline import TOTAL, shown_table
from app.semantic.format import MISSING, csv_cell, format_value, value_label


def _display(value: Any, col: Column) -> Any:
    if value is None:
        return None
    if col.kind in ("money", "ratio", "number") and isinstance(value, Decimal | int | float):
        return float(value)  # sorting and charts only: the text shown and the CSV stay exact
    if col.kind == "count" and isinstance(value, int | float | Decimal):
        return int(value)
    if isinstance(value, datetime | date):
        return pd.Timestamp(value)
    if col.kind == "label":
        return value_label(col.name, value)  # the model's label for a code: Bacs Direct Debit
    return value if isinstance(value, int | float) else str(value)


def answer_frame(answer: Answer) -> pd.DataFrame:
    """The answer's rows for display: numbers as numbers, dates as timestamps, codes as labels."""
    return _frame(answer.columns, answer.rows)


def _frame(cols: list[Column], rows: list[list[Any]]) -> pd.DataFrame:
    data = {
        c.name: [_display(row[i] if i < len(row) else None, c) for row in rows]
        for i, c in enumerate(cols)
    }
    return pd.DataFrame(data, columns=[c.name for c in cols])


def styled(answer: Answer) -> Styler:
    """The table as shown, each cell's text from the formatter (−$1,253.19, January 2025).

    The cells keep their numbers, so sorting is numeric; money is shown in the row's own
    currency when the answer is per currency. A breakdown whose metric adds up has a Share
    column and a last Total row (`app.explain.headline.shown_table`); the rows' order puts it
    last, and a click on a column header sorts it with the rest.
    """
    shown = shown_table(answer)
    total = shown.total
    rows = [*shown.rows, *([[None if v == TOTAL else v for v in total]] if total else [])]
    frame = _frame(shown.columns, rows)
    grain = answer.plan.grain if answer.plan is not None else None
    names = [c.name for c in shown.columns]
    currencies = [_currency(row, names) for row in shown.rows]
    currencies += currencies[:1] if total else []  # a total has one currency: the rows'
    style = frame.style
    for c in shown.columns:
        if c.kind == "label":
            continue
        if c.kind != "money" or c.currency:  # one format for the whole column
            style = style.format(lambda v, c=c: _text(v, c, None, grain), subset=[c.name])
            continue
        for cur in dict.fromkeys(currencies):  # money per row currency: one format per currency
            at = [i for i, r in enumerate(currencies) if r == cur]
            style = style.format(
                lambda v, c=c, cur=cur: _text(v, c, cur, grain),
                subset=pd.IndexSlice[at, [c.name]],
            )
    if total:
        last = len(rows) - 1
        for c, v in zip(shown.columns, total, strict=True):
            if v == TOTAL or v is None:
                text = TOTAL if v == TOTAL else ""
                style = style.format(lambda _, t=text: t, subset=pd.IndexSlice[[last], [c.name]])
    return style


def _currency(row: list[Any], names: list[str]) -> str | None:
    if "currency" not in names:
        return None
    value = row[names.index("currency")]
    return None if value is None else str(value)


def _text(value: Any, col: Column, currency: str | None, grain: str | None) -> str:
    """A display cell's text (the display value of an exact one: floats of money round-trip)."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return MISSING
    if isinstance(value, pd.Timestamp):
        moment = value.to_pydatetime()
        has_time = (moment.hour, moment.minute, moment.second) != (0, 0, 0)
        value = moment if has_time or col.kind != "date" else moment.date()
    return format_value(value, col, currency, grain=grain)


def column_config(answer: Answer) -> dict[str, Any]:
    """Streamlit column configs: the answer's labels; the text comes from `styled`."""
    out: dict[str, Any] = {}
    for c in shown_table(answer).columns:
        label = c.label or c.name
        if c.kind in ("money", "ratio", "count", "number"):
            out[c.name] = st.column_config.NumberColumn(label)
        elif c.kind == "date":
            out[c.name] = st.column_config.DatetimeColumn(label)
        else:
            out[c.name] = st.column_config.TextColumn(label)
    return out


def render_table(answer: Answer, *, key: str, height: int | str = "auto") -> None:
    """Draw the answer's rows as a sortable table (data shown as text, never as markup)."""
    st.dataframe(
        styled(answer),
        column_config=column_config(answer),
        hide_index=True,
        key=key,
        height=height,  # type: ignore[arg-type]
    )


def csv_bytes(answer: Answer) -> bytes:
    """The answer's rows as CSV: exact values (decimal money, ISO dates, codes as stored).

    The header names each column by its label and a money column's currency: "MRR (USD)".
    """
    buf = io.StringIO()
    writer = csv.writer(buf)
    header = []
    for c in answer.columns:
        label = c.label or c.name
        header.append(f"{label} ({c.currency.upper()})" if c.currency else label)
    writer.writerow(header)
    for row in answer.rows:
        writer.writerow([csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")
