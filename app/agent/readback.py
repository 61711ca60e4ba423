"""Does a model's plan or SELECT answer the question asked? The engine's own reading says.

A small model writes plans and SQL that compile, run and answer something else: "How many
customers paid with more than one card brand?" came back as the most recent customer. Before a
model's plan or SELECT runs, the question is read by the deterministic engine's readers; what they
found that changes the number must be in what the model wrote:

- every word the engine could not place but that changes the meaning (its ``meaning`` leftovers:
  "card", "brand", "late", "share") must name part of the plan (a metric, dimension, filter value,
  list, column, statistic or number it uses) or appear in the SELECT's names and literals;
- a question that asks how many ("how many", "number of", a count the engine read) needs a count,
  not rows.

A gap goes back to the model as a correction; when the budget ends the answer is a refusal. The
check is lexical: it can refuse a right plan whose words differ from the question's, never let a
plan pass that leaves a meaning word out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlglot import exp, parse_one
from sqlglot.errors import ParseError

from app.core.plan import QueryPlan
from app.pipeline.assistant import Assistant
from app.semantic.model import SemanticModel
from app.understand.engine import read_question
from app.understand.list_words import NUMBER_WORDS, singular

_COUNT_WORDS = re.compile(r"\b(?:how\s+many|number\s+of|count\s+of|count\b)", re.I)
_AVERAGES = frozenset({"average", "avg", "mean", "median", "typical"})
_SPLIT = re.compile(r"[^a-z0-9]+")
_NUMBER_WORDS = {**NUMBER_WORDS, "once": 1, "twice": 2}


@dataclass(frozen=True)
class Demands:
    """What a model's plan or SELECT must do for this question (empty: nothing checked)."""

    words: tuple[str, ...] = ()  # meaning words the engine could not place, as asked
    count: bool = False  # the question asks how many


def demands_of(question: str, assistant: Assistant, account: str, as_of: date) -> Demands:
    """What the engine's readers found in the question that a model's answer must cover."""
    info = assistant.session.account_info(account)
    if info is None:
        return Demands()
    ctx = assistant.engine_context(info, as_of)
    reading = read_question(" ".join(question.split()), ctx)
    words = tuple(dict.fromkeys(lo.word for lo in reading.leftovers if lo.kind == "meaning"))
    counted = reading.aggregate is not None and reading.aggregate.func == "count_distinct"
    return Demands(words=words, count=counted or _asks_count(question))


def _asks_count(question: str) -> bool:
    """'How many', 'number of', 'count': but 'the average number of' asks for an average."""
    for m in _COUNT_WORDS.finditer(question):
        before = question[: m.start()].split()
        if not before or before[-1].lower() not in _AVERAGES:
            return True
    return False


def plan_gaps(plan: QueryPlan, demands: Demands, model: SemanticModel) -> str | None:
    """What the question asks that the plan leaves out, in words for the model (None: nothing)."""
    gaps = _missing(demands.words, _plan_words(plan, model), _plan_numbers(plan))
    counts = plan.per_group is not None and plan.per_group.count
    counts = counts or (plan.aggregate is not None and plan.aggregate.func == "count_distinct")
    if plan.listing is None:
        counts = counts or any(model.metrics[m].unit == "count" for m in plan.metrics)
    return _say(gaps, demands.count and not counts)


def sql_gaps(sql: str, demands: Demands) -> str | None:
    """What the question asks that the SELECT leaves out (None: nothing it can tell)."""
    try:
        tree = parse_one(sql, read="duckdb")
    except ParseError:
        return None  # the guard says what is wrong with it
    names = [i.name for i in tree.find_all(exp.Identifier)]
    names += [str(lit.this) for lit in tree.find_all(exp.Literal)]
    numbers = {int(n) for n in names if n.isdigit()}
    counts = any(tree.find_all(exp.Count))
    return _say(_missing(demands.words, _tokens(names), numbers), demands.count and not counts)


def _say(words: list[str], needs_count: bool) -> str | None:
    parts = []
    if words:
        quoted = ", ".join(f"'{w}'" for w in words)
        parts.append(f"it does not use {quoted} from the question")
    if needs_count:
        parts.append("the question asks how many, and it does not count")
    return "; ".join(parts) or None


def _missing(words: Iterable[str], known: set[str], numbers: set[int]) -> list[str]:
    out = []
    for word in words:
        low = word.lower()
        if low in _NUMBER_WORDS and _NUMBER_WORDS[low] in numbers:
            continue  # "more than one": a count of at least two, a limit of one
        if low.isdigit() and int(low) in numbers:
            continue
        if _one(low) not in known:
            out.append(word)
    return out


def _tokens(phrases: Iterable[str]) -> set[str]:
    return {_one(t) for p in phrases for t in _SPLIT.split(p.lower()) if t}


def _one(word: str) -> str:
    """A word in the singular (charges → charge, cards → card), as the list reader reads it."""
    return singular(word).strip()


def _plan_words(plan: QueryPlan, model: SemanticModel) -> set[str]:
    """Every word naming something the plan uses: metrics, dimensions, values, list, columns."""
    phrases: list[str] = []
    for name in plan.metrics:
        m = model.metrics.get(name)
        phrases += [name, *((m.label, *m.synonyms) if m else ())]
    for f in plan.filters:
        phrases += [f.dimension, *(str(v) for v in f.values)]
    for name in (*plan.dimensions, *(f.dimension for f in plan.filters)):
        d = model.dimensions.get(name)
        phrases += [name, *((d.label, *d.synonyms) if d else ())]
    spec = model.lists.get(plan.listing) if plan.listing else None
    if spec is not None:
        phrases += [spec.name, spec.label, *spec.synonyms]
        used = {*plan.columns, *(spec.default if not plan.columns else ())}
        used |= {x.column for x in (plan.order, plan.per_group) if x is not None}
        for column in spec.columns:
            if column.name in used:
                phrases += [column.name, column.label, *column.synonyms]
    if plan.aggregate is not None:
        measure = model.measures.get(plan.aggregate.measure)
        phrases += [plan.aggregate.func, plan.aggregate.measure]
        if measure is not None:
            phrases += [measure.label, *measure.words, *measure.entity_words]
    return _tokens(phrases)


def _plan_numbers(plan: QueryPlan) -> set[int]:
    numbers = {n for n in (plan.limit,) if n is not None}
    if plan.ranking is not None:
        numbers.add(plan.ranking.n)
    if plan.per_group is not None:
        numbers.add(plan.per_group.n)
        if plan.per_group.at_least is not None:
            numbers |= {plan.per_group.at_least, plan.per_group.at_least - 1}  # "more than one"
    return numbers
