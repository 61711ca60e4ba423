"""How a compiled plan's result is presented: its columns (name, kind, currency) and chart."""

from __future__ import annotations

from app.core.answer import ChartSpec, Column
from app.semantic.model import Metric
from app.sql.compile.state import CompileState


def _dim_outputs(q: CompileState) -> list[str]:
    """Output dimension columns (customer keeps its id beside the name)."""
    return [d for d in q.keys if d != "period"]


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
