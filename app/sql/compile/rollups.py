"""Rollups in SQL: the SELECT that materializes one, its fingerprint, and reading it for a flow.

A rollup (data/semantic/rollups.yaml) holds, per account, local day, UTC day, currency and its
dimensions, each served metric's summed measure (`v_<metric>`) and row count (`n_<metric>`). A
flow answered from it groups those rows by exactly the keys the facts path groups its rows by
(period, dimensions, currency, UTC day), so the per-day sums converted to the reporting currency,
and therefore every answer, are the same; only fewer rows are read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

import sqlglot
from sqlglot import exp

from app.semantic.model import Metric, SemanticModel, tables_in
from app.semantic.rollups import BUILDS_TABLE, Rollup
from app.sql.compile.breakdown import currency_column, dim_expr
from app.sql.compile.ledger_rollups import attributed_select
from app.sql.compile.ranked_rollups import FX_SOURCE, ranked_select
from app.sql.compile.sqlbuild import (
    COMPARE,
    Type,
    all_of,
    cast,
    col,
    date_trunc,
    fn,
    fragment,
    group_by_all,
    in_list,
    literal,
    literals,
    named,
    none_of,
    ordered,
    paren,
    scan,
    table,
)
from app.sql.compile.state import CompileState

TENANT = "merchant_id"
_TZ = ("accounts", "settings_dashboard_timezone")  # the account's reporting time zone


def _served(model: SemanticModel, r: Rollup) -> list[Metric]:
    return [model.metrics[n] for n in r.metrics]


def _currency(model: SemanticModel, r: Rollup) -> str | None:
    """The rollup's currency fragment: the money metrics' own, else the table's `currency`."""
    found = [currency_column(m) for m in _served(model, r)]
    return next((c for c in found if c), None)


def _dim_columns(model: SemanticModel, r: Rollup, base: str) -> list[tuple[str, exp.Expr]]:
    out: list[tuple[str, exp.Expr]] = []
    for name in r.dimensions:
        dim = model.dimensions[name]
        if dim.key:
            out.append((f"{name}_id", fragment(dim.key)))
        out.append((name, dim_expr(dim, base, model)))
    return out


def _filtered(measure: str, where: tuple[str, ...]) -> exp.Expr:
    """The measure with each aggregate restricted to the metric's rows (`FILTER (WHERE ...)`)."""
    tree = fragment(measure)
    if not where:
        return tree
    cond = all_of([paren(fragment(w)) for w in where])

    def restrict(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.AggFunc):
            return exp.Filter(this=node, expression=exp.Where(this=cond.copy()))
        return node

    out = tree.transform(restrict)
    assert isinstance(out, exp.Expr)
    return out


def build_select(model: SemanticModel, r: Rollup) -> exp.Select:
    """The SELECT (all accounts) whose rows are the rollup's table, sorted by account and day."""
    if r.attributed:
        return attributed_select(model, r)
    if r.ranked:
        daily = build_select(model, r.model_copy(update={"ranked": 0}))
        keys = [c for c, _ in _dim_columns(model, r, _served(model, r)[0].table or "")]
        return ranked_select(model, r, daily, keys)
    served = _served(model, r)
    first = served[0]
    assert first.table and first.time
    base = first.table
    tz = col(_TZ[1], _TZ[0])
    if first.time_zone == "utc":
        utc = exp.AtTimeZone(this=fragment(first.time), zone=exp.Literal.string("UTC"))
        local: exp.Expr = fn("timezone", tz, utc)
    else:
        local = fragment(first.time)
    currency = _currency(model, r)
    select: list[exp.Expr] = [
        named(col(TENANT, base), TENANT),
        named(cast(local, Type.DATE), "local_day"),
        named(cast(fragment(first.time), Type.DATE), "day"),
        named(fragment(currency) if currency else exp.Null(), "currency"),
        *(named(e, n) for n, e in _dim_columns(model, r, base)),
    ]
    sources = [
        first.time,
        *([currency] if currency else []),
        *([first.once_per] if first.once_per else []),
    ]
    for name in r.dimensions:
        dim = model.dimensions[name]
        sources += [dim.expr, *([dim.key] if dim.key else [])]
    for m in served:
        assert m.measure
        select.append(named(_filtered(m.measure, m.where), f"v_{m.name}"))
        count: exp.Expr = exp.Count(this=exp.Star())
        if m.where:
            cond = all_of([paren(fragment(w)) for w in m.where])
            count = exp.Filter(this=count, expression=exp.Where(this=cond))
        select.append(named(count, f"n_{m.name}"))
        sources += [m.measure, *m.where]
    query = scan(exp.select(*select), model, base, sources)
    for j in query.args.get("joins") or []:  # facts are joined within their account, as the guard
        joined = j.this.alias_or_name
        same = exp.EQ(this=col(TENANT, joined), expression=col(TENANT, base))
        j.set("on", exp.and_(j.args["on"], same, copy=False))
    on = exp.EQ(this=col("id", "accounts"), expression=col(TENANT, base))
    query = query.join(exp.Join(this=table("accounts"), on=on), copy=False)
    if all(m.where for m in served):  # rows of none of the metrics are left out
        wheres = [all_of([paren(fragment(w)) for w in m.where]) for m in served]
        query = query.where(exp.or_(*(paren(w) for w in wheres), copy=False), copy=False)
    if first.once_per:  # one value per key and group, then the keys summed per group
        query.select(named(fragment(first.once_per), "once_key"), copy=False)
        query = _once(group_by_all(query), [str(e.alias) for e in select])
    query = group_by_all(query)
    return query.order_by(ordered(col(TENANT)), ordered(col("local_day")), copy=False)


def _once(per_key: exp.Select, columns: list[str]) -> exp.Select:
    """`SELECT keys, sum(v_m), sum(n_m) FROM (per_key)`: a once-per rollup's rows per group."""
    outer = [named(fn("sum", col(c)), c) if c.startswith(("v_", "n_")) else col(c) for c in columns]
    return exp.select(*outer).from_(exp.Subquery(this=per_key, alias="k"), copy=False)


# The code that turns a rollup's definition into rows: a change to it is a change of definition.
_CODE = [
    Path(__file__),
    *(Path(__file__).with_name(n) for n in ("breakdown.py", "sqlbuild.py", "ledger_rollups.py")),
    Path(__file__).with_name("ranked_rollups.py"),
]


def _fragments(model: SemanticModel, r: Rollup) -> list[str]:
    """The model fragments a rollup's rows read: time, currency, measures, filters, dimensions."""
    served = _served(model, r)
    out = [f for m in served for f in (m.time or "", m.measure or "", m.once_per or "", *m.where)]
    out.append(_currency(model, r) or "")
    for name in r.dimensions:
        dim = model.dimensions[name]
        out += [dim.expr, dim.key or ""]
    return [f for f in out if f]


def source_tables(model: SemanticModel, r: Rollup) -> list[str]:
    """Every warehouse table a rollup's rows are computed from (its fingerprint counts them)."""
    base = _served(model, r)[0].table
    assert base
    found = {base, _TZ[0], *([FX_SOURCE] if r.ranked else [])}
    for fragment_sql in _fragments(model, r):
        for t in tables_in(fragment_sql) - {base}:
            found |= {j.to for j in model.join_path(base, t) or []}
    return sorted(found)


def definition(model: SemanticModel, r: Rollup) -> str:
    """What a rollup's rows depend on besides the data, hashed: its model parts and the code.

    The served metrics, the dimensions, the join graph, the code that writes the rollup's SQL
    and sqlglot's version; cheap to compute (no SQL is built), so a session checks it at once.
    """
    key = (model.sha256, r.name)
    if key not in _DEFINITIONS:
        _DEFINITIONS[key] = _definition(model, r)
    return _DEFINITIONS[key]


_DEFINITIONS: dict[tuple[str, str], str] = {}  # (model sha256, rollup name): definition()


# Words for reading a question, not for a rollup's rows: a new synonym leaves rollups fresh.
_WORDING = {"label", "definition", "synonyms", "value_labels"}


def _definition(model: SemanticModel, r: Rollup) -> str:
    parts = [
        r.model_dump_json(),
        *(model.metrics[n].model_dump_json(exclude=_WORDING) for n in r.metrics),
        *(model.dimensions[d].model_dump_json(exclude=_WORDING) for d in r.dimensions),
        *(j.model_dump_json() for j in model.joins),
        str(getattr(sqlglot, "__version__", "")),
    ]
    digest = hashlib.sha256("\0".join(parts).encode())
    for path in _CODE:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(model: SemanticModel, r: Rollup, counts: Mapping[str, int]) -> str:
    """The fingerprint of one account's rollup: its definition and its source tables' row counts."""
    digest = hashlib.sha256(definition(model, r).encode())
    for name in source_tables(model, r):
        digest.update(f"\0{name}={int(counts.get(name, 0))}".encode())
    return digest.hexdigest()[:32]


def counts_query(model: SemanticModel) -> exp.Select:
    """`SELECT (SELECT count(*) FROM t) AS t, ...` over every rollup's source tables (scoped)."""
    sources = sorted({t for r in model.rollups.values() for t in source_tables(model, r)})
    parts = [
        named(exp.Subquery(this=exp.select(exp.Count(this=exp.Star())).from_(table(t))), t)
        for t in sources
    ]
    return exp.select(*parts)


def builds_query() -> exp.Select:
    """`SELECT rollup, fingerprint FROM rollup_builds` (the guard scopes it to one account)."""
    return exp.select(col("rollup"), col("fingerprint")).from_(table(BUILDS_TABLE))


def rollup_tables(model: SemanticModel) -> frozenset[str]:
    """The relations rollups add to the warehouse (the guard allows them; all carry merchant_id)."""
    return frozenset({BUILDS_TABLE, *(r.table for r in model.rollups.values())})


def covering(q: CompileState, m: Metric, attributed: bool = False) -> Rollup | None:
    """The first usable rollup holding the metric, every split dimension and every filter."""
    if not q.ctx.rollups:
        return None
    needed = set(q.dim_names) | {f.dimension for f in q.plan.filters} - {"currency"}
    for r in q.ctx.model.rollups.values():
        if r.attributed != attributed or r.ranked:
            continue
        if r.name in q.ctx.rollups and m.name in r.metrics and needed <= set(r.dimensions):
            if m.once_per and set(q.dim_names) != set(r.dimensions):
                continue  # a key counted once per rollup group: only those groups are exact
            return r
    return None


def running_totals(q: CompileState, m: Metric, points: str, last: date) -> exp.Select | None:
    """A stock's totals at each point from a covering rollup, or None (read the facts then).

    `SELECT p.period, p.point, r.currency, sum(r.v) FROM points p JOIN rollup r ON r.local_day <=
    p.point`: the ledger's rows up to each point, summed per day ahead of time; only for a stock
    whose time is local (the rollup's local day is then the facts' own day) and a plan without
    breakdowns or filters (a breakdown of the ledger is attributed per item at each point).
    """
    r = covering(q, m)
    if r is None or m.time_zone != "local" or q.dim_names or q.plan.filters:
        return None
    day = col("local_day", r.table)
    keeps_currency = m.unit == "money" or q.target is None
    select = exp.select(
        col("period", "p"),
        col("point", "p"),
        *([named(col("currency", r.table), "currency")] if keeps_currency else []),
        named(fn("sum", col(f"v_{m.name}", r.table)), "v"),
    ).from_(table(points, alias="p"), copy=False)
    on = exp.LTE(this=day, expression=col("point", "p"))
    select = select.join(exp.Join(this=table(r.table), on=on), copy=False)
    where = [
        exp.GT(this=col(f"n_{m.name}", r.table), expression=exp.Literal.number(0)),
        exp.LTE(this=day.copy(), expression=literal(last)),
    ]
    return group_by_all(select.where(*where, copy=False))


def _bucket(q: CompileState, day: exp.Expr) -> exp.Expr:
    """Each rollup row's bucket label from its local day (as Frame.bucket_expr on the facts)."""
    frame = q.frame
    if frame.grain:
        return cast(date_trunc(frame.grain, day), Type.DATE)
    only = frame.buckets[0]
    if len(frame.buckets) == 1 and (only.start, only.end) == tuple(frame.scan_range):
        return literal(only.label)
    case = exp.case()
    for b in frame.buckets:
        within = all_of(
            [
                exp.GTE(this=day.copy(), expression=literal(b.start)),
                exp.LT(this=day.copy(), expression=literal(b.end)),
            ]
        )
        case = case.when(within, literal(b.label), copy=False)
    return paren(case)


def plan_filters(q: CompileState, m: Metric, src: str) -> list[exp.Expr]:
    """The plan's filters on the rollup's columns (as breakdown.filter_conditions on the facts)."""
    out: list[exp.Expr] = []
    for f in q.plan.filters:
        if f.dimension == "currency":
            if currency_column(m) is None:
                continue
            column = col("currency", src)
            values: tuple[str | int | Decimal, ...] = tuple(str(v).lower() for v in f.values)
        else:
            column, values = col(f.dimension, src), tuple(f.values)
        if f.op in COMPARE:
            out.append(COMPARE[f.op](this=column, expression=literal(values[0])))
        else:
            test = none_of if f.op in ("neq", "not_in") else in_list
            out.append(test(column, literals(values)))
    return out


def rollup_rows(q: CompileState, m: Metric, r: Rollup, money: bool) -> exp.Select:
    """The flow's `_rows` select read from rollup r: the same columns, keys and sums.

    Its rows are summed per key unless each rollup row already is one key: the plan splits by
    exactly the rollup's dimensions, keeps the day (to convert money), and the time is local, so
    the day fixes the local day and the period (a ranking of customers then reads its rows as is).
    """
    src = r.table
    day = col("local_day", src)
    select: list[exp.Expr] = [named(_bucket(q, day), "period")]
    for name in q.dim_names:
        if q.ctx.model.dimensions[name].key:
            select.append(named(col(f"{name}_id", src), f"{name}_id"))
        select.append(named(col(name, src), name))
    if money or q.target is None:
        select.append(named(col("currency", src), "currency"))
    if money and q.target is not None:
        select.append(named(col("day", src), "day"))
    one_per_key = (
        set(q.dim_names) == set(r.dimensions)
        and money
        and q.target is not None
        and m.time_zone == "local"
    )
    value = col(f"v_{m.name}", src)
    select.append(named(value if one_per_key else fn("sum", value), "v"))
    start, end = q.frame.scan_range
    where = [
        exp.GT(this=col(f"n_{m.name}", src), expression=exp.Literal.number(0)),
        exp.GTE(this=day.copy(), expression=literal(start)),
        exp.LT(this=day.copy(), expression=literal(end)),
        *plan_filters(q, m, src),
    ]
    rows = exp.select(*select).from_(table(src), copy=False).where(*where, copy=False)
    return rows if one_per_key else group_by_all(rows)


__all__ = [
    "build_select",
    "builds_query",
    "counts_query",
    "covering",
    "fingerprint",
    "plan_filters",
    "rollup_rows",
    "rollup_tables",
    "running_totals",
    "source_tables",
]
