"""Cross-checks of a loaded semantic model.

Every name the model refers to exists, and every expression of a metric, measure, dimension or
list is reachable from its table without fan-out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.errors import SemanticModelError
from app.semantic.model import tables_in
from app.semantic.rollups import additive

if TYPE_CHECKING:
    from app.semantic.model import ListSpec, Metric, SemanticModel
    from app.semantic.rollups import Rollup


def check_model(model: SemanticModel) -> None:
    """Every name the model refers to exists; every expression is reachable without fan-out."""
    for m in model.metrics.values():
        for ref in (m.numerator, m.denominator, *m.drivers, *(v.metric for v in m.variants)):
            if ref and ref not in model.metrics:
                raise SemanticModelError(f"{m.name}: unknown metric {ref}")
        for _, part in m.reconciles.terms if m.reconciles else ():
            if part.removesuffix("_change") not in model.metrics:
                raise SemanticModelError(f"{m.name}: reconciles with unknown metric {part}")
        if not set(m.lowering) <= set(m.drivers):
            raise SemanticModelError(f"{m.name}: lowering names a metric that is no driver")
        implied = [f.dimension for f in m.implied_filters]
        for dim in [*implied, *(d.dimension for d in m.implied_dimensions)]:
            if dim not in model.dimensions:
                raise SemanticModelError(f"{m.name}: unknown dimension {dim}")
        if m.aggregation in ("ratio", "custom"):
            continue
        assert m.table and m.measure and m.time
        exprs = [m.measure, m.time, *m.where, *([m.currency] if m.currency else [])]
        for e in [*exprs, *([m.once_per] if m.once_per else [])]:
            for t in tables_in(e):
                if model.join_path(m.table, t) is None:
                    raise SemanticModelError(f"{m.name}: {t} unreachable from {m.table}")
    for d in model.dimensions.values():
        if d.table != "*":
            tables_in(d.expr)
        if d.via is not None and model.join_path(d.via, d.table) is None:
            raise SemanticModelError(f"dimension {d.name}: {d.via} is no child of {d.table}")
        for name in d.determines:
            if name not in model.dimensions:
                raise SemanticModelError(f"dimension {d.name}: unknown dimension {name}")
    for ms in model.measures.values():
        metric = model.metrics.get(ms.metric)
        if metric is None or metric.table != ms.table:
            raise SemanticModelError(f"measure {ms.name}: {ms.metric} is no metric of {ms.table}")
        if (ms.unit == "money") != (ms.currency is not None):
            raise SemanticModelError(f"measure {ms.name}: a currency column goes with money")
        for e in [ms.expr, ms.time, *ms.where, *([ms.currency] if ms.currency else [])]:
            for t in tables_in(e):
                if model.join_path(ms.table, t) is None:
                    raise SemanticModelError(f"measure {ms.name}: {t} unreachable")
    for r in model.reports.values():
        for ref in (n for ms in r.measures for n in (ms.amount, ms.count) if n):
            if ref not in model.metrics:
                raise SemanticModelError(f"report {r.name}: unknown metric {ref}")
    for spec in model.lists.values():
        _check_list(model, spec)


def _check_list(model: SemanticModel, spec: ListSpec) -> None:
    """Every column reachable without fan-out; every name a list refers to in its catalogue."""
    names = {c.name for c in spec.columns}
    wanted = {
        *spec.default,
        *spec.base,
        spec.key,
        spec.recent,
        *([spec.order] if spec.order else []),
    }
    if wanted - names:
        raise SemanticModelError(f"list {spec.name}: unknown columns {sorted(wanted - names)}")
    if set(spec.aliases.values()) - set(spec.states) or set(spec.state_times) - set(spec.states):
        raise SemanticModelError(f"list {spec.name}: an alias or a state time names no state")
    for j in spec.joins:
        if model.join_path(spec.table, j.from_, spec.joins) is None:
            raise SemanticModelError(f"list {spec.name}: join from {j.from_} unreachable")
    for c in spec.columns:
        if c.local and c.kind != "date":
            raise SemanticModelError(f"list {spec.name}: local column {c.name} must be a date")
        if c.kind == "money" and spec.currency is None:
            raise SemanticModelError(f"list {spec.name}: money column {c.name} needs a currency")
        source = c.via or spec.table
        if c.via is not None and model.join_path(c.via, spec.table) is None:
            raise SemanticModelError(f"list {spec.name}: {c.via} is no child of {spec.table}")
        for t in tables_in(c.expr):
            if model.join_path(source, t, spec.joins) is None:
                raise SemanticModelError(f"list {spec.name}: {t} unreachable from {source}")
    for sql in (spec.time, spec.amount, spec.currency, *spec.state_times.values()):
        for t in tables_in(sql) if sql else ():
            if model.join_path(spec.table, t, spec.joins) is None:
                raise SemanticModelError(f"list {spec.name}: {t} unreachable")


def check_rollups(model: SemanticModel) -> None:
    """Each rollup serves additive flows (or running-total stocks) of one table and time column."""
    for r in model.rollups.values():
        unknown = [n for n in r.metrics if n not in model.metrics]
        if not r.metrics or unknown:
            raise SemanticModelError(f"rollup {r.name}: unknown or missing metrics {unknown}")
        served = [model.metrics[n] for n in r.metrics]
        for m in served:
            why = (
                "is no flow, nor a stock summed over its rows"
                if m.aggregation not in ("flow", "stock") or m.entity
                else "counts once per another key than the rollup's other metrics"
                if len({x.once_per for x in served}) > 1
                else "has a measure that does not re-sum"
                if not m.once_per and not (m.measure and additive(m.measure))
                else "reads the as-of day"
                if any("@" in w for w in m.where)
                else ""
            )
            if why:
                raise SemanticModelError(f"rollup {r.name}: {m.name} {why}")
        currencies = {m.currency for m in served if m.currency}
        if len({(m.table, m.time, m.time_zone) for m in served}) != 1 or len(currencies) > 1:
            raise SemanticModelError(f"rollup {r.name}: metrics differ in table, time or currency")
        if r.attributed:
            check_attributed(model, r, served)
            continue
        for d in r.dimensions:
            dim = model.dimensions.get(d)
            if dim is None or dim.table == "*" or "@" in dim.expr or "@" in (dim.key or ""):
                raise SemanticModelError(f"rollup {r.name}: {d} is no dimension a day can keep")


_LEDGER = "subscription_item_change_events"  # the MRR ledger, attributed per subscription item
_ITEM_COLUMNS = ("price_id", "customer_id")  # an item's latest price; its customer, for life


def check_attributed(model: SemanticModel, r: Rollup, served: list[Metric]) -> None:
    """An attributed rollup: stocks of the MRR ledger, by the item's price or customer only."""
    for m in served:
        if m.aggregation != "stock" or m.table != _LEDGER or m.where or m.time_zone != "local":
            raise SemanticModelError(f"rollup {r.name}: {m.name} is no stock of {_LEDGER}")
    for d in r.dimensions:
        dim = model.dimensions.get(d)
        path = model.join_path(_LEDGER, dim.table) if dim and dim.table != "*" else None
        if not dim or dim.key or dim.via or not path or path[0].column not in _ITEM_COLUMNS:
            raise SemanticModelError(f"rollup {r.name}: {d} is not the item's price or customer's")
