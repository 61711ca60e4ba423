"""Rollups: per-account daily pre-aggregates of flow metrics, declared next to the metrics."""

from __future__ import annotations

import sqlglot
from pydantic import BaseModel, ConfigDict
from sqlglot import exp

TABLE_PREFIX = "rollup_"  # a rollup `payments_daily` is the warehouse table rollup_payments_daily
BUILDS_TABLE = "rollup_builds"  # one row per account and rollup: the fingerprint it was built at


def is_rollup_table(name: str) -> bool:
    """Whether a warehouse table is a rollup or their build record (derived, not a fact table)."""
    return name == BUILDS_TABLE or name.startswith(TABLE_PREFIX)


class Rollup(BaseModel):
    """A daily pre-aggregate of flow metrics of one table and time column, by some dimensions.

    Rows: account × local day × UTC day × currency × the dimensions; per metric the summed
    measure (`v_<metric>`) and its row count (`n_<metric>`), so a group without rows stays absent.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    metrics: tuple[str, ...]
    dimensions: tuple[str, ...] = ()
    description: str = ""
    # A stock of the MRR ledger by the item's price or customer attributes: rows are the changes of
    # the items' running totals attributed to their latest values (app/sql/compile/ledger_rollups).
    attributed: bool = False
    # The first and last N keys of each calendar year per metric, in the account's currency,
    # ranked ahead of time (app/sql/compile/ranked_rollups.py); 0 = a daily rollup.
    ranked: int = 0

    @property
    def table(self) -> str:
        """The warehouse table this rollup is materialized in."""
        return f"{TABLE_PREFIX}{self.name}"


def additive(measure: str) -> bool:
    """Whether a measure re-sums exactly: every aggregate in it is sum() or count(), no DISTINCT."""
    tree = sqlglot.parse_one(measure, read="duckdb")
    aggs = list(tree.find_all(exp.AggFunc))
    return bool(aggs) and all(
        isinstance(a, exp.Sum | exp.Count) and not a.find(exp.Distinct) for a in aggs
    )
