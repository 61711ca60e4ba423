"""An answer's rows for download: CSV with a header line, or JSON with the column kinds."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.core.answer import Answer


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")  # exact, never 1E+3
    return str(value)


def rows_csv(answer: Answer) -> str:
    """The rows as CSV: column names, then one line a row (empty for a missing value)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in answer.columns])
    writer.writerows([_cell(v) for v in row] for row in answer.rows)
    return out.getvalue()


def rows_json(answer: Answer) -> str:
    """The rows as JSON: columns (name, kind, currency, label), rows, Total row, truncated."""
    body = json.loads(answer.model_dump_json(include={"columns", "rows", "total", "truncated"}))
    return json.dumps(body)
