"""Time phrases in finance questions → half-open date ranges, series grains, points in time."""

from app.understand.time.api import (
    TimeMatch,
    default_range,
    parse_time,
    previous_period,
    same_period_last_year,
)

__all__ = ["TimeMatch", "default_range", "parse_time", "previous_period", "same_period_last_year"]
