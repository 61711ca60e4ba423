"""Read the columns a list question names, and say which named ones the data does not have."""

from __future__ import annotations

from dataclasses import dataclass

from app.semantic.model import ListSpec
from app.understand.list_words import Clause, column_words, content, items, norm, state_words
from app.understand.reading import EngineContext, blank

CUSTOMERS = "customers"


@dataclass(frozen=True)
class Columns:
    """Catalogue columns a question names, the spans it used, and what it named but we lack."""

    names: tuple[str, ...]
    exact: bool  # "(id and email)": exactly these columns
    in_clauses: int  # how many were named in a column clause (the rest elsewhere in the question)
    spans: tuple[tuple[int, int], ...]
    states: tuple[str, ...]  # state words said inside a clause ("with failed payments")
    missing: tuple[str, ...]  # assumption texts for named columns the data does not have


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
    for clause in found:
        named_here = 0
        keep: list[tuple[int, int]] = []  # filter values stay for the filter reader
        for a, b in items(work, clause):
            phrase = work[a:b]
            key = content(phrase)
            if not key:
                continue
            if subject and spec.name != CUSTOMERS and f"customer {key}" in words:
                names.append(words[f"customer {key}"])
                named_here += 1
                continue
            rest = phrase
            for s, e in table.spans(phrase):
                names.append(words[norm(phrase[s:e])])
                named_here += 1
                rest = blank(rest, s, e)
            for s, e in state_words(spec).spans(rest):
                states.append(norm(rest[s:e]))
                rest = blank(rest, s, e)
            for hit, _ in ctx.lexicon.values(rest):
                keep.append((a + hit.start, a + hit.end))
                rest = blank(rest, hit.start, hit.end)
            for hit in ctx.lexicon.lists(rest):
                rest = blank(rest, hit.start, hit.end)
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
    )


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
