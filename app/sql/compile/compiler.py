"""QueryPlan → one DuckDB SELECT (a sqlglot expression), money exact and converted per day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app.core.answer import Period
from app.core.errors import CompileError
from app.core.plan import Assumption, QueryPlan
from app.semantic.model import Metric, SemanticModel, tables_in
from app.sql.compile.listing import compile_listing
from app.sql.compile.present import chart_for, final_select, output_columns
from app.sql.compile.sqlbuild import model_sql
from app.sql.compile.state import (
    AccountInfo,
    CompileContext,
    Compiled,
    CompileState,
    from_clause,
)
from app.sql.compile.timeframe import (
    bounds,
    local_expr,
    plan_frame,
    time_filter,
)

SICE = "subscription_item_change_events"


def compile_plan(plan: QueryPlan, ctx: CompileContext) -> Compiled:
    """Compile a QueryPlan into one SELECT over the warehouse."""
    if plan.listing:
        return compile_listing(plan, ctx)
    model = ctx.model
    metrics = [_metric(model, name) for name in plan.metrics]
    frame = plan_frame(plan, ctx.as_of, ctx.account.timezone, metrics)
    by_currency = plan.by_currency or "currency" in plan.dimensions
    notes: list[Assumption] = []
    if by_currency and not all(m.unit == "money" and m.aggregation != "ratio" for m in metrics):
        by_currency = False
        notes.append(
            Assumption(
                key="by_currency_ignored",
                text="Amounts per currency apply to money totals only; "
                "the reporting currency was used.",
            )
        )
    target = (
        None if by_currency else (plan.currency or ctx.currency or ctx.account.currency).lower()
    )
    q = CompileState(ctx=ctx, plan=plan, frame=frame, target=target, notes=notes)
    q.dim_names = [d for d in plan.dimensions if d != "currency"]
    for d in q.dim_names:
        if d not in model.dimensions:
            raise CompileError(f"unknown dimension {d}")
    names = [_compile_metric(q, m) for m in metrics]
    sql = final_select(q, metrics, names)
    with_sql = "WITH " + ",\n".join(f"{n} AS ({s})" for n, s in q.ctes) + "\n" + sql
    expression = q.params.bind(with_sql)
    columns = output_columns(q, metrics)
    return Compiled(
        expression=expression,
        columns=columns,
        chart=chart_for(q, metrics, columns),
        period=Period(
            start=frame.range.start,
            end=frame.range.end,
            timezone=ctx.account.timezone,
            label=frame.range.label,
            point=frame.buckets[0].point
            if frame.grain is None and all(m.aggregation in ("stock", "snapshot") for m in metrics)
            else None,
        ),
        currency=target,
        notes=q.notes + frame.notes,
    )


def _metric(model: SemanticModel, name: str) -> Metric:
    if name not in model.metrics:
        raise CompileError(f"unknown metric {name}")
    return model.metrics[name]


# ------------------------------------------------------------------------ joins and dimensions


def _dim_exprs(q: CompileState, metric: Metric) -> list[tuple[str, str]]:
    """(output name, SQL expression) for each requested dimension of this metric."""
    out: list[tuple[str, str]] = []
    for name in q.dim_names:
        dim = q.ctx.model.dimensions[name]
        expr = dim.expr
        if dim.table == "*":
            expr = f"{metric.table}.{dim.expr}"
        if dim.key:
            out.append((f"{name}_id", dim.key))
        out.append((name, expr))
    return out


def _filter_sql(q: CompileState, metric: Metric) -> list[str]:
    """WHERE fragments for the plan's dimension filters."""
    out = []
    for f in q.plan.filters:
        if f.dimension == "currency":
            col = metric.currency
            if col is None:
                continue
            values: tuple[str | int | Decimal, ...] = tuple(str(v).lower() for v in f.values)
        else:
            dim = q.ctx.model.dimensions.get(f.dimension)
            if dim is None:
                raise CompileError(f"unknown filter dimension {f.dimension}")
            col = f"{metric.table}.{dim.expr}" if dim.table == "*" else dim.expr
            values = f.values
        op = {"eq": "IN", "in": "IN", "neq": "NOT IN", "not_in": "NOT IN"}.get(f.op)
        if op:
            out.append(f"{col} {op} ({q.params.add_list(values)})")
        else:
            sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[f.op]
            out.append(f"{col} {sym} {q.params.add(values[0])}")
    return out


# ------------------------------------------------------------------------ metrics


def _compile_metric(q: CompileState, m: Metric) -> str:
    """Add the CTEs computing metric m per (period, dims[, currency]); return the CTE name."""
    if m.aggregation == "ratio":
        return _ratio(q, m)
    if m.aggregation == "custom":
        return _custom(q, m)
    if m.aggregation == "stock" and m.table == SICE:
        return _sice_stock(q, m)
    if m.aggregation in ("stock", "snapshot"):
        return _stock(q, m)
    return _flow(q, m)


def _flow(q: CompileState, m: Metric, name: str | None = None) -> str:
    assert m.table and m.measure and m.time
    name = name or f"m_{m.name}"
    tz = q.ctx.account.timezone
    dims = _dim_exprs(q, m)
    money = m.unit == "money"
    specials = {"as_of_end": q.params.add(q.frame.as_of_end_utc)}
    bucket = q.frame.bucket_expr(m.time, m.time_zone, tz, q.params)
    select = [f"{bucket} AS period", *(f"{e} AS {n}" for n, e in dims)]
    if money:
        select += [f"{m.currency} AS currency", f"CAST({m.time} AS DATE) AS day"]
    select.append(f"{m.measure} AS v")
    where = [model_sql(w, specials) for w in m.where]
    where += time_filter(m.time, m.time_zone, tz, q.frame.scan_range, q.params)
    where += _filter_sql(q, m)
    exprs = [e for _, e in dims] + [m.measure, m.time, *m.where, *_filter_sql_exprs(q, m)]
    if money:
        exprs.append(m.currency or "")
    sql = (
        f"SELECT {', '.join(select)} FROM {from_clause(q.ctx.model, m.table, exprs)} "
        f"WHERE {' AND '.join(where)} GROUP BY ALL"
    )
    base = q.cte(f"{name}_rows", sql)
    if not money:
        return q.cte(name, f"SELECT {_keys_sql(q)}, sum(v) AS v FROM {base} GROUP BY ALL")
    return _convert(q, base, name, point_col=None)


def _filter_sql_exprs(q: CompileState, m: Metric) -> list[str]:
    """Column expressions the filters touch (to plan joins)."""
    out = []
    for f in q.plan.filters:
        dim = q.ctx.model.dimensions.get(f.dimension)
        if dim and dim.table not in ("*",) and f.dimension != "currency":
            out.append(dim.expr)
    return out


def _keys_sql(q: CompileState, prefix: str = "") -> str:
    return ", ".join(f"{prefix}{k}" for k in q.keys)


def _ensure_fx(q: CompileState) -> None:
    if not q.fx_added:
        q.cte(
            "fx",
            "SELECT CAST(exchange_rates_from_usd.date AS DATE) + 1 AS day, "
            "exchange_rates_from_usd.buy_currency_exchange_rates AS rates "
            "FROM exchange_rates_from_usd",
        )
        q.fx_added = True


def _convert(q: CompileState, base: str, name: str, point_col: str | None) -> str:
    """Sum minor units per key; convert to the target currency with the previous day's rate."""
    if q.target is None:
        return q.cte(name, f"SELECT {_keys_sql(q)}, sum(v) AS v FROM {base} GROUP BY ALL")
    _ensure_fx(q)
    zero = q.params.add_list(list(q.ctx.model.zero_decimal_currencies))
    target = q.params.add(q.target)
    path = q.params.add(f"$.{q.target}")
    t_factor = 100 if q.target in q.ctx.model.zero_decimal_currencies else 1
    day = "b.day" if point_col is None else f"CAST(b.{point_col} AS DATE)"
    rate_src = "CAST(json_extract_string(fx.rates, '$.' || b.currency) AS DOUBLE)"
    rate_tgt = f"CAST(json_extract_string(fx.rates, {path}) AS DOUBLE)"
    factor = f"(CASE WHEN b.currency IN ({zero}) THEN 100 ELSE 1 END)"
    converted = (
        f"CASE WHEN b.currency = {target} THEN b.v ELSE CAST(round(b.v * {factor} * {rate_tgt} "
        f"/ {rate_src} / {t_factor}) AS HUGEINT) END"
    )
    sql = (
        f"SELECT {_keys_sql(q, 'b.')}, sum({converted}) AS v FROM {base} AS b "
        f"LEFT JOIN fx ON fx.day = {day} GROUP BY ALL"
    )
    return q.cte(name, sql)


def _points_cte(q: CompileState, at: str) -> str:
    """A CTE of (period, point): the day whose end-of-day state each bucket reports."""
    name = f"points_{at}"
    if any(n == name for n, _ in q.ctes):
        return name
    rows = []
    for b in q.frame.buckets:
        point = b.point if at == "end" else b.start - timedelta(days=1)
        rows.append(f"SELECT {q.params.add(b.label)} AS period, {q.params.add(point)} AS point")
    return q.cte(name, " UNION ALL ".join(rows))


def _points(q: CompileState, at: str) -> list[date]:
    """The days whose end-of-day state the buckets report."""
    return [b.point if at == "end" else b.start - timedelta(days=1) for b in q.frame.buckets]


def _before_last_point(q: CompileState, m: Metric, at: str) -> str:
    """`time < end of the last point` (local days): no row after every point can count."""
    assert m.time
    key = ("before_last_point", at, m.time, m.time_zone)
    if key not in q.memo:  # one placeholder per column, so CTEs built from it can be shared
        nxt = max(_points(q, at)) + timedelta(days=1)
        upper = bounds(nxt, nxt, m.time_zone, q.ctx.account.timezone)[0]
        q.memo[key] = f"{m.time} < {q.params.add(upper)}"
    return q.memo[key]


def _stock(q: CompileState, m: Metric, at: str = "end", name: str | None = None) -> str:
    """Running total (or current snapshot) of the measure at each bucket's point."""
    assert m.table and m.measure and m.time
    name = name or f"m_{m.name}_{at}"
    tz = q.ctx.account.timezone
    points = _points_cte(q, at)
    dims = _dim_exprs(q, m)
    money = m.unit == "money"
    single = len(q.frame.buckets) == 1  # one point: the time filter alone decides, no day join
    local_day = f"CAST({local_expr(m.time, m.time_zone, tz, q.params)} AS DATE)"
    specials = {"as_of_end": q.params.add(q.frame.as_of_end_utc)}
    select = [*(f"{e} AS {n}" for n, e in dims), *([] if single else [f"{local_day} AS day"])]
    if money:
        select.append(f"{m.currency} AS currency")
    select.append(f"{m.measure} AS v")
    where = [model_sql(w, specials) for w in m.where] or ["TRUE"]
    where += _filter_sql(q, m)
    where.append(_before_last_point(q, m, at))
    exprs = [e for _, e in dims] + [m.measure, m.time, *m.where, *_filter_sql_exprs(q, m)]
    if money:
        exprs.append(m.currency or "")
    rows = q.cte(
        f"{name}_rows",
        f"SELECT {', '.join(select)} FROM {from_clause(q.ctx.model, m.table, exprs)} "
        f"WHERE {' AND '.join(where)} GROUP BY ALL",
    )
    dim_cols = "".join(f"r.{n}, " for n, _ in dims)
    cur = "r.currency, " if money else ""
    at_point = q.cte(
        f"{name}_pts",
        f"SELECT p.period, p.point, {dim_cols}{cur}sum(r.v) AS v FROM {points} AS p "
        f"JOIN {rows} AS r ON {'TRUE' if single else 'r.day <= p.point'} GROUP BY ALL",
    )
    if not money:
        return q.cte(name, f"SELECT {_keys_sql(q)}, sum(v) AS v FROM {at_point} GROUP BY ALL")
    return _convert_stock(q, at_point, name)


def _convert_stock(q: CompileState, base: str, name: str) -> str:
    """Convert a stock at its point with the rate published for the point day."""
    if q.target is None:
        return q.cte(name, f"SELECT {_keys_sql(q)}, sum(v) AS v FROM {base} GROUP BY ALL")
    shifted = q.cte(f"{name}_day", f"SELECT *, point + 1 AS day FROM {base}")
    return _convert(q, shifted, name, point_col=None)


_ITEM_COLUMNS = {
    "price_id": f"arg_max({SICE}.price_id, {SICE}.local_event_timestamp)",
    "customer_id": f"{SICE}.customer_id",
    "subscription_id": f"{SICE}.subscription_id",
    "product_id": f"any_value({SICE}.product_id)",
    "currency": f"{SICE}.currency",
}
# An item belongs to one subscription, customer and currency for life: grouping by them is the
# same grouping as by item alone, and cheaper than carrying them through any_value().
_ITEM_KEYS = ("customer_id", "subscription_id", "currency")


def _item_columns(q: CompileState, m: Metric, exprs: list[str]) -> list[str]:
    """The per-item columns a breakdown, filter or entity count reads (joins included)."""
    used = " ".join([*exprs, m.entity or ""])
    needed = {c for c in _ITEM_COLUMNS if f"{SICE}.{c}" in used}
    for t in sorted({t for e in [*exprs, m.entity or ""] if e for t in tables_in(e)} - {SICE}):
        path = q.ctx.model.join_path(SICE, t) or []
        needed |= {j.column for j in path if j.from_ == SICE}
    if m.unit == "money":
        needed.add("currency")
    return [c for c in _ITEM_COLUMNS if c in needed]


def _sice_items(q: CompileState, m: Metric, at: str, points: str, columns: list[str]) -> str:
    """Per (point, subscription item): the columns asked for and the item's running measure.

    The price is the item's price at the point (its latest event). Metrics with the same
    measure, conditions and columns share one CTE, so the range join over the ledger runs once.
    """
    where = [*m.where, _before_last_point(q, m, at)]
    cols = "".join(f"{_ITEM_COLUMNS[c]} AS {c}, " for c in columns)
    keys = "".join(f", {SICE}.{c}" for c in columns if c in _ITEM_KEYS)
    sql = (
        f"SELECT p.period, p.point, {SICE}.subscription_item_id, {cols}"
        f"{m.measure} AS v FROM {points} AS p JOIN {SICE} "
        f"ON CAST({SICE}.local_event_timestamp AS DATE) <= p.point "
        f"WHERE {' AND '.join(where)} "
        f"GROUP BY p.period, p.point, {SICE}.subscription_item_id{keys}"
    )
    for existing, body in q.ctes:
        if existing.startswith("sice_items_") and body == sql:
            return existing
    return q.cte(f"sice_items_{at}_{sum(n.startswith('sice_items_') for n, _ in q.ctes)}", sql)


def _sice_stock(q: CompileState, m: Metric, at: str = "end", name: str | None = None) -> str:
    """MRR-ledger stocks per subscription item, attributed to the item's price at the point."""
    assert m.measure
    name = name or f"m_{m.name}_{at}"
    points = _points_cte(q, at)
    dims = _dim_exprs(q, m)
    filters = _filter_sql(q, m)
    if not dims and not filters and not m.entity:
        # Totals need no per-item attribution: sum the ledger up to each point directly
        # (the same running total, without grouping every item at every point).
        where = [*m.where, _before_last_point(q, m, at)]
        cur = "" if m.unit != "money" else f"{SICE}.currency AS currency, "
        base = q.cte(
            f"{name}_dims",
            f"SELECT p.period, p.point, {cur}{m.measure} AS v FROM {points} AS p JOIN {SICE} "
            f"ON CAST({SICE}.local_event_timestamp AS DATE) <= p.point "
            f"WHERE {' AND '.join(where)} GROUP BY ALL",
        )
        if m.unit != "money":
            return q.cte(name, f"SELECT {_keys_sql(q)}, sum(v) AS v FROM {base} GROUP BY ALL")
        return _convert_stock(q, base, name)
    if m.entity and not dims and not filters:
        # A count of entities with a positive balance: the entity's own running total (the
        # definition, e.g. customers with positive MRR), no per-item attribution needed.
        where = [*m.where, _before_last_point(q, m, at)]
        per_entity = (
            f"SELECT p.period, p.point, {m.entity} AS entity, {m.measure} AS v "
            f"FROM {points} AS p JOIN {SICE} "
            f"ON CAST({SICE}.local_event_timestamp AS DATE) <= p.point "
            f"WHERE {' AND '.join(where)} GROUP BY ALL"
        )
        base = q.cte(
            f"{name}_dims",
            f"SELECT e.period, e.point, count(*) FILTER (WHERE e.v > 0) AS v "
            f"FROM ({per_entity}) AS e GROUP BY ALL",
        )
        return q.cte(name, f"SELECT {_keys_sql(q)}, sum(v) AS v FROM {base} GROUP BY ALL")
    exprs = [e for _, e in dims] + _filter_sql_exprs(q, m)
    items = _sice_items(q, m, at, points, _item_columns(q, m, exprs))
    if m.entity:
        value = f"count(DISTINCT {m.entity}) FILTER (WHERE {SICE}.v > 0)"
    else:
        value = f"sum({SICE}.v)"
    cur = "" if m.unit != "money" else f"{SICE}.currency AS currency, "
    select = ", ".join([f"{SICE}.period", f"{SICE}.point", *(f"{e} AS {n}" for n, e in dims)])
    sql = (
        f"SELECT {select}, {cur}{value} AS v "
        f"FROM {from_clause(q.ctx.model, SICE, exprs, alias_source=items)} "
        f"WHERE {' AND '.join(filters) or 'TRUE'} GROUP BY ALL"
    )
    base = q.cte(f"{name}_dims", sql)
    if m.unit != "money":
        return q.cte(name, f"SELECT {_keys_sql(q)}, sum(v) AS v FROM {base} GROUP BY ALL")
    return _convert_stock(q, base, name)


def _ratio(q: CompileState, m: Metric) -> str:
    assert m.numerator and m.denominator
    model = q.ctx.model
    num_m, den_m = model.metrics[m.numerator], model.metrics[m.denominator]
    num = _compile_metric(q, num_m)
    if m.denominator_at == "start" and den_m.aggregation == "stock":
        den = (_sice_stock if den_m.table == SICE else _stock)(q, den_m, at="start")
    else:
        den = _compile_metric(q, den_m)
    keys = q.keys
    on = " AND ".join(f"n.{k} IS NOT DISTINCT FROM d.{k}" for k in keys)
    if m.unit == "money":
        value = "CAST(round(coalesce(n.v, 0) / nullif(d.v, 0)) AS HUGEINT)"
    else:
        value = f"{m.offset} + CAST(coalesce(n.v, 0) AS DOUBLE) / nullif(d.v, 0)"
    sql = (
        f"SELECT {', '.join(f'coalesce(n.{k}, d.{k}) AS {k}' for k in keys)}, {value} AS v "
        f"FROM {num} AS n FULL OUTER JOIN {den} AS d ON {on}"
    )
    return q.cte(f"m_{m.name}", sql)


def _custom(q: CompileState, m: Metric) -> str:
    if q.dim_names or q.plan.grain or q.plan.comparison or q.target is None:
        raise CompileError(f"{m.label} is available as a single total only (no breakdowns)")
    assert m.template
    b = q.frame.buckets[0]
    specials = {
        "start": q.params.add(_midnight(b.start)),
        "end": q.params.add(_midnight(b.end)),
    }
    body = model_sql(m.template, specials)
    return q.cte(
        f"m_{m.name}",
        f"SELECT {q.params.add(b.label)} AS period, (SELECT {m.name} FROM ({body}) AS t) AS v",
    )


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time())


# ------------------------------------------------------------------------ final select


__all__ = ["AccountInfo", "CompileContext", "Compiled", "compile_plan", "from_clause"]
