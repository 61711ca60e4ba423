"""What every tool call needs: the assistant (guard, executor, model), the account and the date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.assistant import Assistant


@dataclass
class ToolContext:
    """The request a tool runs for: one assistant, one account, one as-of date, output limits."""

    assistant: Assistant
    account: str
    as_of: date
    preview_rows: int = 20
    sample_cap: int = 25
