"""The periods a question names, resolved by our own time parser and offered to the model.

A model never computes dates: it picks one of these keys (JSON mode) or copies one of these
ranges (native mode), and a plan whose period is not among them is sent back. "none" means the
question names no period, and the compiler's default applies (year to date; balances today).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from app.core.plan import Grain, TimeRange
from app.understand.time import parse_time

NO_PERIOD = "none"


@dataclass(frozen=True)
class PeriodChoice:
    """One period the model may choose: its key, its range (None for 'none') and our label."""

    key: str
    range: TimeRange | None
    label: str

    @property
    def text(self) -> str:
        """How the choice is listed for the model."""
        if self.range is None:
            return f'"{self.key}" = no period named (year to date; balances today)'
        end = self.range.end
        return f'"{self.key}" = {self.label or "the period"}, {self.range.start} ≤ day < {end}'


@dataclass(frozen=True)
class Periods:
    """Every period choice of a question and the series grain the question asks for, if any."""

    choices: tuple[PeriodChoice, ...]
    grain: Grain | None

    @property
    def keys(self) -> list[str]:
        """The keys, for the schema's enum."""
        return [c.key for c in self.choices]

    @property
    def text(self) -> str:
        """The choices on one line each, for the question part of the prompt."""
        grain = f" (a series by {self.grain})" if self.grain else ""
        return "; ".join(c.text for c in self.choices) + grain

    def get(self, key: str) -> PeriodChoice | None:
        """The choice with this key."""
        return next((c for c in self.choices if c.key == key), None)

    def matching(self, time: TimeRange | None) -> PeriodChoice | None:
        """The choice whose range is exactly `time` (labels aside)."""
        want = None if time is None else (time.start, time.end)
        for c in self.choices:
            if (None if c.range is None else (c.range.start, c.range.end)) == want:
                return c
        return None


def resolve_periods(question: str, as_of: date, fiscal_year_start_month: int = 1) -> Periods:
    """The periods our parser reads in the question ('none' only when it reads none)."""
    match = parse_time(question, as_of, fiscal_year_start_month=fiscal_year_start_month)
    ranges: Sequence[TimeRange] = match.all_ranges
    choices = [
        PeriodChoice(key=f"{r.start}..{r.end}", range=r, label=r.label)
        for r in dict.fromkeys(ranges)
    ]
    if not choices:
        choices = [PeriodChoice(key=NO_PERIOD, range=None, label="")]
    return Periods(choices=tuple(choices), grain=match.grain)
