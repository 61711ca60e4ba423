"""The outer SELECT of a compiled plan: joins metric CTEs, formats units, compares, ranks."""

from __future__ import annotations

from app.core.answer import ChartSpec, Column
from app.semantic.model import Metric
from app.sql.compile.state import CompileState

_INTERVALS = {
    "day": (1, "DAY"),
    "week": (7, "DAY"),
    "month": (1, "MONTH"),
    "quarter": (3, "MONTH"),
    "year": (1, "YEAR"),
}


def _fmt(q: CompileState, m: Metric, v: str) -> str:
    """SQL turning a metric's raw value (minor units, counts, ratios) into its display type."""
    if m.unit == "count":
        return f"CAST({v} AS BIGINT)"
    if m.unit == "ratio":
        return f"CAST({v} AS DOUBLE)"
    zero = q.params.add_list(list(q.ctx.model.zero_decimal_currencies))
    if q.target is None:
        return (
            f"CASE WHEN currency IN ({zero}) THEN CAST({v} AS DECIMAL(38, 2)) ELSE {v} * 0.01 END"
        )
    if q.target in q.ctx.model.zero_decimal_currencies:
        return f"CAST({v} AS DECIMAL(38, 0))"
    return f"CAST({v} AS HUGEINT) * 0.01"


def _joined(q: CompileState, names: list[str], alias: str, period_filter: str | None) -> str:
    """A subquery with the keys and one value column per metric (v0, v1, ...)."""
    keys = q.keys
    first = names[0]
    cols = ", ".join(f"{first}.{k}" for k in keys)
    vals = ", ".join(f"{n}.v AS v{i}" for i, n in enumerate(names))
    sql = f"SELECT {cols}, {vals} FROM {first}"
    for n in names[1:]:
        on = " AND ".join(f"{first}.{k} IS NOT DISTINCT FROM {n}.{k}" for k in keys)
        sql += f" LEFT JOIN {n} ON {on}"
    if period_filter:
        sql += f" WHERE {first}.period = {period_filter}"
    return f"({sql}) AS {alias}"


def final_select(q: CompileState, metrics: list[Metric], names: list[str]) -> str:
    """The outer SELECT over the metric CTEs."""
    plan, frame = q.plan, q.frame
    dims = [d for d in q.keys if d != "period"]
    out_dims = [c for c in _dim_outputs(q)]
    if frame.grain:
        head = ["c.period"] + [f"c.{d}" for d in out_dims]
        if plan.comparison is None or frame.shift is None:
            vals = [f"{_fmt(q, m, f'c.v{i}')} AS {m.name}" for i, m in enumerate(metrics)]
            start = q.params.add(frame.range.start)
            if q.keys == ["period"]:  # one row per bucket, empty buckets included
                buckets = " UNION ALL ".join(
                    f"SELECT {q.params.add(b.label)} AS period" for b in frame.buckets
                )
                vals = [
                    f"coalesce({_fmt(q, m, f'c.v{i}')}, {_zero(m)}) AS {m.name}"
                    for i, m in enumerate(metrics)
                ]
                sql = (
                    f"SELECT k.period, {', '.join(vals)} FROM ({buckets}) AS k "
                    f"LEFT JOIN {_joined(q, names, 'c', None)} ON c.period = k.period "
                    f"WHERE k.period >= CAST(date_trunc('{frame.grain}', {start}) AS DATE)"
                )
            else:
                sql = (
                    f"SELECT {', '.join(head + vals)} FROM {_joined(q, names, 'c', None)} "
                    f"WHERE c.period >= CAST(date_trunc('{frame.grain}', {start}) AS DATE)"
                )
        else:
            n, unit = _INTERVALS[frame.shift[0]] if frame.shift[0] != "year" else (1, "YEAR")
            on = " AND ".join(
                [f"p.period = CAST(c.period - INTERVAL {n} {unit} AS DATE)"]
                + [f"p.{d} IS NOT DISTINCT FROM c.{d}" for d in dims]
            )
            vals = _comparison_values(q, metrics)
            start = q.params.add(frame.range.start)
            sql = (
                f"SELECT {', '.join(head + vals)} FROM {_joined(q, names, 'c', None)} "
                f"LEFT JOIN {_joined(q, names, 'p', None)} ON {on} "
                f"WHERE c.period >= CAST(date_trunc('{frame.grain}', {start}) AS DATE)"
            )
        order = ["c.period", *[f"c.{d}" for d in out_dims]]
    else:
        cur = q.params.add("current")
        if plan.comparison is None:
            vals = [f"{_fmt(q, m, f'c.v{i}')} AS {m.name}" for i, m in enumerate(metrics)]
            if not dims:
                vals = [
                    f"coalesce({_fmt(q, m, f'c.v{i}')}, {_zero(m)}) AS {m.name}"
                    for i, m in enumerate(metrics)
                ]
                sql = (
                    f"SELECT {', '.join(vals)} FROM (SELECT {cur} AS period) AS k "
                    f"LEFT JOIN {_joined(q, names, 'c', None)} ON c.period = k.period"
                )
            else:
                head = [f"c.{d}" for d in out_dims]
                sql = f"SELECT {', '.join(head + vals)} FROM {_joined(q, names, 'c', cur)}"
        else:
            prev = q.params.add("previous")
            on = " AND ".join(f"p.{d} IS NOT DISTINCT FROM c.{d}" for d in dims) or "TRUE"
            head = [f"coalesce(c.{d}, p.{d}) AS {d}" for d in out_dims]
            vals = _comparison_values(q, metrics)
            if not dims:
                sql = (
                    f"SELECT {', '.join(vals)} FROM (SELECT 1) AS k "
                    f"LEFT JOIN {_joined(q, names, 'c', cur)} ON TRUE "
                    f"LEFT JOIN {_joined(q, names, 'p', prev)} ON TRUE"
                )
            else:
                sql = (
                    f"SELECT {', '.join(head + vals)} FROM {_joined(q, names, 'c', cur)} "
                    f"FULL OUTER JOIN {_joined(q, names, 'p', prev)} ON {on}"
                )
        order = [metrics[0].name + " DESC NULLS LAST", *out_dims] if dims else []
    if plan.ranking is not None:
        rank_metric = (
            plan.ranking.metric if plan.ranking.metric in plan.metrics else metrics[0].name
        )
        direction = "DESC" if plan.ranking.direction == "top" else "ASC"
        keys = ["period"] if frame.grain else []
        order = [*keys, f"{rank_metric} {direction} NULLS LAST", *out_dims]
    limit = plan.ranking.n if plan.ranking else plan.limit
    if order:
        sql += " ORDER BY " + ", ".join(_unqualify(o) for o in order)
    if limit:
        sql += f" LIMIT {q.params.add(limit)}"
    return sql


def _unqualify(o: str) -> str:
    return o[2:] if o.startswith(("c.", "p.")) else o


def _zero(m: Metric) -> str:
    return "NULL" if m.unit == "ratio" else "0"


def _comparison_values(q: CompileState, metrics: list[Metric]) -> list[str]:
    vals = []
    for i, m in enumerate(metrics):
        c, p = f"c.v{i}", f"p.v{i}"
        if q.frame.grain is None and not [d for d in q.keys if d != "period"] and m.unit != "ratio":
            c, p = f"coalesce({c}, 0)", f"coalesce({p}, 0)"
        vals += [
            f"{_fmt(q, m, c)} AS {m.name}",
            f"{_fmt(q, m, p)} AS {m.name}_previous",
            f"{_fmt(q, m, f'({c} - {p})')} AS {m.name}_change",
            f"CAST(({c} - {p}) AS DOUBLE) / nullif(abs({p}), 0) AS {m.name}_change_pct",
        ]
    return vals


def _dim_outputs(q: CompileState) -> list[str]:
    """Output dimension columns (customer keeps its id beside the name)."""
    out = []
    for d in q.keys:
        if d == "period":
            continue
        out.append(d)
    return out


def output_columns(q: CompileState, metrics: list[Metric]) -> list[Column]:
    """Describe the final columns (name, kind, currency) in order."""
    model = q.ctx.model
    cols: list[Column] = []
    if q.frame.grain:
        cols.append(Column(name="period", kind="date", label=q.frame.grain.capitalize()))
    for d in _dim_outputs(q):
        dim = model.dimensions.get(d.removesuffix("_id"))
        label = dim.label if dim else d.capitalize()
        if d.endswith("_id") and dim is not None:
            label = f"{dim.label} ID"
        cols.append(Column(name=d, kind="label", label=label))
    for m in metrics:
        kind = {"money": "money", "count": "count", "ratio": "ratio"}[m.unit]
        cur = q.target if m.unit == "money" else None
        names = [m.name]
        if q.plan.comparison is not None:
            names += [f"{m.name}_previous", f"{m.name}_change"]
        for n in names:
            cols.append(
                Column(
                    name=n,
                    kind=kind,
                    currency=cur,
                    label=m.label + _suffix(n, m.name),
                )
            )
        if q.plan.comparison is not None:
            cols.append(Column(name=f"{m.name}_change_pct", kind="ratio", label="Change %"))
    return cols


def _suffix(col: str, metric: str) -> str:
    return {"_previous": " (previous)", "_change": " (change)"}.get(col[len(metric) :], "")


def chart_for(q: CompileState, metrics: list[Metric], columns: list[Column]) -> ChartSpec | None:
    """Line for time series, bar for breakdowns, none for single numbers."""
    if q.plan.chart == "none":
        return None
    y = [metrics[0].name]
    dims = [c.name for c in columns if c.kind == "label" and not c.name.endswith("_id")]
    if q.frame.grain:
        kind = "bar" if q.plan.chart == "bar" else "line"
        return ChartSpec(type=kind, x="period", y=y, color=dims[0] if dims else None)
    if dims:
        kind = "line" if q.plan.chart == "line" else "bar"
        return ChartSpec(type=kind, x=dims[0], y=y)
    return None
