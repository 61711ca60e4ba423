"""An Answer's rows as a display DataFrame with currency-aware column formats, and as exact CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from app.core.answer import Answer, Column
from app.explain.format import SYMBOLS

_DATE_FORMATS = {
    "day": "YYYY-MM-DD",
    "week": "YYYY-MM-DD",
    "month": "MMM YYYY",
    "quarter": "YYYY [Q]Q",
    "year": "YYYY",
}


def money_format(currency: str | None) -> str:
    """printf-style format for a money column: symbol (or code), thousands separators, cents."""
    cur = (currency or "").lower()
    sym = SYMBOLS.get(cur)
    if sym:
        return f"{sym}%,.2f"
    return f"%,.2f {cur.upper()}".strip()


def _display(value: Any, col: Column) -> Any:
    if value is None:
        return None
    if col.kind in ("money", "ratio", "number") and isinstance(value, Decimal | int | float):
        return float(value)  # display only; the CSV keeps the exact Decimal
    if col.kind == "count" and isinstance(value, int | float | Decimal):
        return int(value)
    if isinstance(value, datetime | date):
        return pd.Timestamp(value)
    return value if isinstance(value, int | float) else str(value)


def answer_frame(answer: Answer) -> pd.DataFrame:
    """The answer's rows for display: numbers as numbers, dates as timestamps, labels as text."""
    cols = answer.columns
    data = {
        c.name: [_display(row[i] if i < len(row) else None, c) for row in answer.rows]
        for i, c in enumerate(cols)
    }
    return pd.DataFrame(data, columns=[c.name for c in cols])


def column_config(answer: Answer) -> dict[str, Any]:
    """Streamlit column configs: labels from the answer, money in its currency, ratios as %."""
    grain = answer.plan.grain if answer.plan is not None else None
    out: dict[str, Any] = {}
    for c in answer.columns:
        label = c.label or c.name
        if c.kind == "money":
            out[c.name] = st.column_config.NumberColumn(label, format=money_format(c.currency))
        elif c.kind == "ratio":
            out[c.name] = st.column_config.NumberColumn(label, format="percent")
        elif c.kind == "count":
            out[c.name] = st.column_config.NumberColumn(label, format="%,d")
        elif c.kind == "number":
            out[c.name] = st.column_config.NumberColumn(label, format="%,.2f")
        elif c.kind == "date":
            fmt = _DATE_FORMATS.get(grain or "day", "YYYY-MM-DD")
            out[c.name] = st.column_config.DateColumn(label, format=fmt)
        else:
            out[c.name] = st.column_config.TextColumn(label)
    return out


def render_table(answer: Answer, *, key: str, height: int | str = "auto") -> None:
    """Draw the answer's rows as a sortable table (data shown as text, never as markup)."""
    st.dataframe(
        answer_frame(answer),
        column_config=column_config(answer),
        hide_index=True,
        key=key,
        height=height,  # type: ignore[arg-type]
    )


def csv_bytes(answer: Answer) -> bytes:
    """The answer's rows as CSV with exact values (Decimal money, ISO dates) and a header row."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    header = []
    for c in answer.columns:
        label = c.label or c.name
        header.append(f"{label} ({c.currency.upper()})" if c.currency else label)
    writer.writerow(header)
    for row in answer.rows:
        writer.writerow(["" if v is None else _csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def _csv_cell(v: Any) -> str:
    if isinstance(v, datetime | date):
        return v.isoformat()
    text = str(v)
    # Spreadsheet formula injection: a cell starting with = + - @ would run as a formula.
    if text[:1] in ("=", "+", "@") or (text[:1] == "-" and not _is_number(text)):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True
