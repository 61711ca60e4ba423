"""Read the columns a list question names, and say which named ones the data does not have."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.semantic.model import ListSpec
from app.understand.list_words import (
    Clause,
    column_words,
    content,
    items,
    norm,
    singular,
    state_name,
    state_words,
)
from app.understand.readers_words import LOCAL_TIME
from app.understand.reading import EngineContext, blank

CUSTOMERS = "customers"
_HOW_MANY = re.compile(
    r"\b(?:how\s+many(?:\s+times)?|the\s+number(?:\s+of)?|number\s+of|count)\b", re.I
)
_POSSESSIVE = re.compile(r"['’]s\b")
_REFER = re.compile(r"\s*(?:and\s+)?(?:its|their)\b", re.I)


@dataclass(frozen=True)
class Columns:
    """Catalogue columns a question names, the spans it used, and what it named but we lack."""

    names: tuple[str, ...]
    exact: bool  # "(id and email)": exactly these columns
    in_clauses: int  # how many were named in a column clause (the rest elsewhere in the question)
    spans: tuple[tuple[int, int], ...]
    states: tuple[str, ...]  # state words said inside a clause ("with failed payments")
    missing: tuple[str, ...]  # assumption texts for named columns the data does not have
    counted: bool = False  # "how many failed": the rows of each group counted


def read_columns(
    work: str,
    spec: ListSpec,
    found: list[Clause],
    subject: bool,
    ctx: EngineContext,
    remainder: str,
) -> Columns:
    """Columns from the clauses ('with X and Y', '(X, Y)', 'their X') and the other words."""
    table, words = column_words(spec)
    names: list[str] = []
    spans: list[tuple[int, int]] = []
    states: list[str] = []
    missing: list[str] = []
    exact = False
    counted = False
    for clause in found:
        named_here = 0
        keep: list[tuple[int, int]] = []  # filter values stay for the filter reader
        other: ListSpec | None = None  # the object 'its'/'their' refers to
        sticky = False  # after "its date", "and amount" is the same object's too
        for a, b in items(work, clause):
            phrase = work[a:b]
            key = content(phrase)
            if not key:
                continue
            if subject and spec.name != CUSTOMERS and f"customer {key}" in words:
                names.append(words[f"customer {key}"])
                named_here += 1
                continue
            how_many = _HOW_MANY.search(phrase)
            if how_many is not None:  # "how many failed": each group's rows counted
                counted = True
                phrase = blank(phrase, how_many.start(), how_many.end())
            refer = _REFER.match(phrase) is not None
            sticky = sticky or (refer and other is not None)
            borrowed, rest, named = _borrowed(phrase, spec, ctx, other if refer or sticky else None)
            other = named or other
            if borrowed is None:
                borrowed = []
                for s, e in table.spans(phrase):
                    if not rest[s:e].strip():
                        continue  # read as the other object's column
                    name = words[norm(phrase[s:e])]
                    borrowed.append(name)
                    rest = blank(rest, s, e)
                    column = spec.column(name)
                    of = ctx.model.names_object(spec, column) if column is not None else None
                    if of is not None:  # "the amount still owed on the latest invoice"
                        more, rest = _of(rest, of)
                        borrowed += _own(spec, more, of)
                        other = of
                alone = singular(rest)
                for s, e in table.spans(alone):
                    borrowed.append(words[norm(alone[s:e])])
                    rest = blank(rest, s, e)
            if clause.when:  # "when did that payout arrive": a date, the object's own if none
                borrowed += _date_asked(spec, borrowed, other, ctx)
            names += borrowed
            named_here += len(borrowed)
            for s, e in state_words(spec).spans(rest):
                states.append(state_name(spec, rest[s:e]))
                rest = blank(rest, s, e)
            for hit, _ in ctx.lexicon.values(rest):
                if not _POSSESSIVE.match(rest, hit.end):  # "the card's postcode": no filter
                    keep.append((a + hit.start, a + hit.end))
                rest = blank(rest, hit.start, hit.end)
            for hit in ctx.lexicon.lists(rest):
                rest = blank(rest, hit.start, hit.end)
            for local in LOCAL_TIME.finditer(rest):  # "(our local time)": no column
                keep.append((a + local.start(), a + local.end()))
                rest = blank(rest, *local.span())
            left = content(rest)
            if left:
                missing.append(
                    f"The data has no '{left}' for {spec.label.lower()}; it is not shown."
                )
        exact = exact or (clause.exact and named_here > 0)
        spans += _minus((clause.start, clause.end), keep)
    in_clauses = len(names)
    for s, e in table.spans(remainder):
        names.append(words[norm(remainder[s:e])])
        spans.append((s, e))
    for name in list(names):
        column = spec.column(name)
        names += list(column.also) if column is not None else []
    return Columns(
        names=tuple(dict.fromkeys(names)),
        exact=exact,
        in_clauses=in_clauses,
        spans=tuple(spans),
        states=tuple(dict.fromkeys(states)),
        missing=tuple(missing),
        counted=counted,
    )


def _date_asked(
    spec: ListSpec, names: list[str], other: ListSpec | None, ctx: EngineContext
) -> list[str]:
    """The date a 'when' item asks for when it named none: the object's (or row's) date."""
    columns = [ctx.model.list_column(spec, n) for n in names]
    if any(c is not None and c.kind == "date" for c in columns):
        return []
    if other is None or other is spec:
        return [spec.recent]
    return _own(spec, [f"{other.name}.{other.recent}"], other)


def _borrowed(
    phrase: str, spec: ListSpec, ctx: EngineContext, other: ListSpec | None
) -> tuple[list[str] | None, str, ListSpec | None]:
    """Columns of another object an item names: 'the refund id', 'its date' after 'the charge'.

    `other` is the object 'its' refers to here, if any. Returns the plan's names for the columns
    ("refunds.refund"; None when the item is about the list's own row), the phrase with the words
    used blanked, and the object the item named.
    """
    table, _ = column_words(spec)
    own = table.spans(phrase)
    for hit in ctx.lexicon.lists(phrase):
        named = ctx.model.lists[hit.name]
        if named is spec or any(s <= hit.start and hit.end <= e for s, e in own):
            continue
        if named.name == CUSTOMERS and spec.column("customer") is not None:
            continue  # the customer's columns are the list's own
        if not ctx.model.reaches(spec, named):
            continue
        names, rest = _of(blank(phrase, hit.start, hit.end), named)
        return _own(spec, names or [f"{named.name}.{named.key}"], named), rest, named
    if other is not None:
        names, rest = _of(phrase, other)
        if names:
            return _own(spec, names, other), rest, other
    return None, phrase, None


def _own(spec: ListSpec, names: list[str], other: ListSpec) -> list[str]:
    """Borrowed columns the list has itself as a column ("invoices.total" → "invoice_total")."""
    out = []
    for name in names:
        column = other.column(name.split(".", 1)[1]) if "." in name else None
        same = next(
            (
                c.name
                for c in spec.columns
                if column is not None and c.expr == column.expr and c.via is None
            ),
            None,
        )
        out.append(same or name)
    return out


def _of(phrase: str, other: ListSpec) -> tuple[list[str], str]:
    """Another object's columns named in a phrase, as 'other.column', and the phrase left."""
    names: list[str] = []
    table, words = column_words(other)
    for plural in (True, False):
        text = phrase if plural else singular(phrase)
        for s, e in table.spans(text):
            names.append(f"{other.name}.{words[norm(text[s:e])]}")
            phrase = blank(phrase, s, e)
    return names, phrase


def _minus(span: tuple[int, int], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The span without the holes, as spans."""
    out: list[tuple[int, int]] = []
    start = span[0]
    for s, e in sorted(holes):
        if s > start:
            out.append((start, s))
        start = max(start, e)
    if start < span[1]:
        out.append((start, span[1]))
    return out
