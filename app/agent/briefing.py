"""The briefing the agent sends first: a token-budgeted view of the semantic model, by relevance.

The context is a short header (units, aggregation kinds, dimension and list names), then one line
per metric and per table, most relevant first: each metric the question mentions (by name, label,
synonym, ambiguous word or implied filter word, then by keyword overlap) is followed by the tables
it reads, then the tables of the dimensions the question mentions, then everything else. Lines are
added greedily while they fit; what did not fit is named on a closing line so the model knows to
ask `lookup_metric` or `describe_table`. Table lines list the columns the semantic model uses
(plus id, created, currency, status and amount), not every column. Token counts are exact for the
chosen encoding, and the budget is never exceeded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import tiktoken

from app.agent.periods import Periods, resolve_periods
from app.agent.prompts import load_prompt
from app.agent.summary import ALWAYS_COLUMNS, columns_used, stable_summary
from app.agent.tokens import encoding
from app.semantic.catalog import TableInfo, is_tenant_column, warehouse_catalog
from app.semantic.model import ListSpec, Metric, SemanticModel, tables_in

MAX_SYNONYMS = 4
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORD_TEXT = """
a an and are as at be by did do does for from how in is it last many me much of on or our per
show the this to was we what when which who with year month quarter week day total
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
HEADER = (
    "Money columns hold integers in minor units of the row's currency column; metrics convert to "
    "the reporting currency. Timestamps are UTC.",
    "Aggregation: flow = summed over the period; stock = balance at the end of the period; "
    "snapshot = open documents on the as-of day; ratio = numerator / denominator.",
)


@dataclass(frozen=True)
class SchemaContext:
    """The rendered context, its token count, and the metrics and tables it describes in full."""

    text: str
    tokens: int
    metrics: tuple[str, ...]
    tables: tuple[str, ...]


@dataclass(frozen=True)
class _Item:
    kind: str  # header | list | metric | table
    name: str
    text: str
    primary: bool


def _norm(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text.lower()).strip()


def _contains(question: str, phrase: str) -> bool:
    return bool(phrase) and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", question) is not None


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOPWORDS}


def _metric_tables(
    model: SemanticModel, metric: Metric, seen: frozenset[str] = frozenset()
) -> list[str]:
    if metric.name in seen:
        return []
    out: list[str] = [metric.table] if metric.table else []
    for sql in (metric.measure, metric.time, metric.currency, metric.entity, *metric.where):
        if sql:
            out.extend(sorted(tables_in(sql)))
    for ref in (metric.numerator, metric.denominator):
        if ref:
            out.extend(_metric_tables(model, model.metrics[ref], seen | {metric.name}))
    return list(dict.fromkeys(out))


def _score_metrics(question: str, model: SemanticModel, dim_tables: list[str]) -> dict[str, float]:
    q = _norm(question)
    q_words = _words(q)
    scores = dict.fromkeys(model.metrics, 0.0)
    for m in model.metrics.values():
        phrases = {_norm(p) for p in (m.name, m.label, *m.synonyms)}
        phrases |= {_norm(w) for f in m.implied_filters if f.names_metric for w in f.words}
        for phrase in phrases:
            if _contains(q, phrase):
                scores[m.name] += 2 + len(phrase.split())
        vocabulary = _words(" ".join((m.name, m.label, *m.synonyms)))
        scores[m.name] += 0.5 * len(q_words & vocabulary)
        scores[m.name] += 0.2 * len(q_words & (_words(m.definition) - vocabulary))
    for amb in model.ambiguous:
        if any(_contains(q, _norm(w)) for w in amb.words):
            if amb.default in scores:
                scores[amb.default] += 4
            for alt in amb.alternatives:
                if alt in scores:
                    scores[alt] += 2
    for table in dim_tables:  # a tie-breaker among the metrics the question mentions
        for m in model.metrics.values():
            if scores[m.name] <= 0 or not m.table:
                continue
            if m.table == table:
                scores[m.name] += 1
            elif model.join_path(m.table, table) is not None:
                scores[m.name] += 0.25
    return scores


def _dimension_tables(question: str, model: SemanticModel) -> list[str]:
    """Tables of the dimensions a question names, by dimension word or by filter value."""
    q = _norm(question)
    tables: list[str] = []
    for d in model.dimensions.values():
        words = [d.name, *d.synonyms]
        if isinstance(d.values, dict):
            words += [w for ws in d.values.values() for w in ws]
        elif d.values in ("countries", "states"):
            table: dict[str, tuple[str, ...]] = getattr(model, d.values)
            words += [w for ws in table.values() for w in ws if len(w) > 2]
        if d.table != "*" and any(_contains(q, _norm(w)) for w in words):
            tables.append(d.table)
    return list(dict.fromkeys(tables))


_TABLE_LINES: dict[str, dict[str, str]] = {}


def _table_lines(model: SemanticModel) -> dict[str, str]:
    """One compact line per warehouse table, cached per semantic model version."""
    if model.sha256 not in _TABLE_LINES:
        used = columns_used(model)
        _TABLE_LINES[model.sha256] = {
            name: _table_line(info, used.get(name, set()) | used.get(info.view_of or name, set()))
            for name, info in warehouse_catalog().items()
        }
    return _TABLE_LINES[model.sha256]


def _table_line(info: TableInfo, used: set[str]) -> str:
    wanted = used | set(ALWAYS_COLUMNS)
    shown = [c for c in info.columns if c.name.lower() in wanted and not is_tenant_column(c.name)]
    parts = [f"{c.name} {c.type}{' (minor units)' if c.money else ''}" for c in shown]
    hidden = len(info.columns) - len(shown) - 1  # merchant_id is never shown
    more = f", +{hidden} more" if hidden > 0 else ""
    return f"table {info.name}: {info.comment} Columns: {', '.join(parts)}{more}"


def _metric_line(m: Metric) -> str:
    ratio = m.aggregation == "ratio"
    shape = f"= {m.numerator} / {m.denominator}" if ratio else f"from {m.table}"
    if m.grains != ("day", "week", "month", "quarter", "year"):
        shape += f"; grains {'/'.join(m.grains)}"
    label = m.label if _norm(m.label) != _norm(m.name) else ""
    aka = [s for s in m.synonyms if _norm(s) not in (_norm(m.name), _norm(m.label))][:MAX_SYNONYMS]
    head = f"metric {m.name}" + (f" ({label})" if label else "")
    aka_text = f" Aka: {', '.join(aka)}." if aka else ""
    return f"{head} [{m.unit}, {m.aggregation}; {shape}]: {m.definition}{aka_text}"


def _list_line(spec: ListSpec) -> str:
    """A list's column catalogue, states and orders, for `columns`, `order` and `per_group`."""
    order = f"{spec.order} desc" if spec.order else f"{spec.recent} desc"
    return (
        f"list {spec.name}: columns {', '.join(c.name for c in spec.columns)}; "
        f"default columns {', '.join(spec.default)}; default order {order}; "
        f"most recent = {spec.recent}; filter dimension 'state' with one of: "
        f"{', '.join(spec.states)}; or a column name (e.g. an id)."
    )


def _items(question: str, model: SemanticModel) -> list[_Item]:
    dim_tables = _dimension_tables(question, model)
    scores = _score_metrics(question, model, dim_tables)
    ranked = sorted((name for name, s in scores.items() if s > 0), key=lambda n: (-scores[n], n))
    lines = _table_lines(model)
    dims = ", ".join(d for d in model.dimensions if d != "account")
    header = [
        *HEADER,
        f"Dimensions: {dims}.",
        f"Lists (row by row): {', '.join(model.lists)}.",
        *(
            [f"Row-level measures (plan.aggregate): {', '.join(model.measures)}."]
            if model.measures
            else []
        ),
    ]
    items = [_Item("header", "", h, True) for h in header]
    placed: set[str] = set()

    def table(name: str, primary: bool) -> None:
        if name not in placed and name in lines:
            placed.add(name)
            items.append(_Item("table", name, lines[name], primary))

    q = _norm(question)
    for spec in model.lists.values():
        if any(_contains(q, _norm(w)) for w in spec.synonyms):
            items.append(_Item("list", spec.name, _list_line(spec), True))
    for i, name in enumerate(ranked):
        items.append(_Item("metric", name, _metric_line(model.metrics[name]), True))
        for t in _metric_tables(model, model.metrics[name]):
            table(t, True)
        if i == 0:  # the tables of the dimensions asked for come right after the top metric
            for t in dim_tables:
                table(t, True)
    for t in dim_tables:
        table(t, True)
    for name, m in model.metrics.items():
        if name not in ranked:
            items.append(_Item("metric", name, _metric_line(m), False))
    for t in lines:
        table(t, False)
    return items


def _tail(model: SemanticModel, chosen: list[_Item], limit: int | None = None) -> list[str]:
    metrics = {i.name for i in chosen if i.kind == "metric"}
    tables = {i.name for i in chosen if i.kind == "table"}
    out = []
    for label, names in (
        ("Other metrics (lookup_metric)", [m for m in model.metrics if m not in metrics]),
        ("Other tables (describe_table)", [t for t in warehouse_catalog() if t not in tables]),
    ):
        shown = names if limit is None else names[:limit]
        if shown:
            end = ", ..." if len(shown) < len(names) else "."
            out.append(f"{label}: {', '.join(shown)}{end}")
    return out


def build_context(
    question: str, model: SemanticModel, budget_tokens: int, encoding_name: str = "o200k_base"
) -> SchemaContext:
    """The most relevant metrics and tables for the question, within budget_tokens tokens."""
    enc = encoding(encoding_name)
    budget_tokens = max(0, budget_tokens)
    items = _items(question, model)
    chosen: list[_Item] = []
    used = 0
    for item in items:
        cost = _count(enc, item.text) + 1
        if used + cost <= budget_tokens:
            chosen.append(item)
            used += cost
        elif item.kind == "metric" and item.primary:
            break  # never let a less relevant line in ahead of a more relevant one
    limit: int | None = None
    while True:
        text = "\n".join([*(i.text for i in chosen), *_tail(model, chosen, limit)])
        tokens = _count(enc, text)
        if tokens <= budget_tokens:
            break
        secondary = [i for i, it in enumerate(chosen) if not it.primary]
        if secondary:
            chosen.pop(secondary[-1])
        elif limit is None or limit > 4:  # the tails always name a few: lookups stay known
            limit = 8 if limit is None else limit - 4
        elif limit and _after_top_metric(chosen):
            chosen.pop()
        elif limit != 0:  # a tiny budget: the top metric kept, the tails dropped
            limit = 0
        elif chosen:
            chosen.pop()
        else:
            break
    return SchemaContext(
        text=text,
        tokens=tokens,
        metrics=tuple(i.name for i in chosen if i.kind == "metric"),
        tables=tuple(i.name for i in chosen if i.kind == "table"),
    )


def _after_top_metric(chosen: list[_Item]) -> bool:
    """Whether any line comes after the first metric (those go before the tails do)."""
    first = next((i for i, it in enumerate(chosen) if it.kind == "metric"), len(chosen))
    return len(chosen) > first + 1


def _count(enc: tiktoken.Encoding, text: str) -> int:
    return len(enc.encode(text, disallowed_special=()))


def question_metrics(question: str, model: SemanticModel, n: int = 3) -> str:
    """The definitions of the metrics a question most likely means, for its short prompt part."""
    scores = _score_metrics(question, model, _dimension_tables(question, model))
    ranked = sorted((m for m, s in scores.items() if s > 0), key=lambda m: (-scores[m], m))[:n]
    if not ranked:
        return "none matched by name"
    return "; ".join(f"{m} = {_first_sentence(model.metrics[m].definition)}" for m in ranked)


def _first_sentence(text: str, max_words: int = 30) -> str:
    sentence = text.split(". ")[0].rstrip(".")
    words = sentence.split()
    return " ".join(words[:max_words]) + ("…" if len(words) > max_words else "")


def system_message(model: SemanticModel, budget_tokens: int, mode: str = "native") -> str:
    """The agent's system message: rules, the mode's step guide, the semantic model summary.

    It is the same for every question and account, so a prompt cache reuses it.
    """
    guide = load_prompt("actions" if mode == "json" else "plan").render()
    return load_prompt("system").render(
        guide=guide.strip(), context=stable_summary(model, budget_tokens)
    )


def first_messages(
    question: str,
    *,
    model: SemanticModel,
    as_of: date,
    account: str,
    timezone: str,
    currency: str,
    budget_tokens: int,
    mode: str = "native",
    periods: Periods | None = None,
) -> list[dict[str, str]]:
    """The agent's first request in OpenAI format: a stable system prefix, then the question.

    The system message (rules, the step guide of the mode, the semantic model summary in a fixed
    order) is identical for every question, so a prompt cache reuses it; the user message holds
    everything question-specific (account, date, resolved periods, likely metrics) and is short.
    """
    system = system_message(model, budget_tokens, mode)
    periods = periods or resolve_periods(question, as_of)
    user = load_prompt("question").render(
        account=account,
        as_of=as_of.isoformat(),
        timezone=timezone,
        currency=currency.upper(),
        periods=periods.text,
        metrics=question_metrics(question, model),
        question=question,
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user.strip()}]
