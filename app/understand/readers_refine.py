"""Readers of what the semantic model says beside a metric's name: variants, qualifiers, breakdowns.

A variant is the same measure defined another way, named by extra words ("dispute rate *by charge
date*", "billings *excluding tax*"); a qualifier says which rows count ("tax given back *on
refunds*"); an implied breakdown is a dimension the metric's words ask for without "by" ("AR
*aging*"). All come from data/semantic/metrics.yaml (`variants`, `implied_filters`,
`implied_dimensions`), so the engine holds no list of words of its own.
"""

from __future__ import annotations

import re
from functools import cache

from app.core.plan import Assumption
from app.understand.reading import EngineContext, Reading, amend, blank


@cache
def _phrase(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the words as whole words, a space matching any run of spaces or hyphens."""
    alts = sorted(words, key=len, reverse=True)
    body = "|".join(re.escape(w).replace(r"\ ", r"[\s-]+") for w in alts)
    return re.compile(rf"(?<![\w$€£])(?:{body})(?!\w)", re.IGNORECASE)


def read_variants(r: Reading, ctx: EngineContext) -> Reading:
    """Swap a metric for the variant its extra words name; drop metrics read inside those words.

    "Dispute rate by month of the disputed charge": "of the disputed charge" names the variant
    counted by charge date, and its "disputed" is no request for the disputed amount.
    """
    model = ctx.model
    metrics, masked = list(r.metrics), r.masked
    for name in r.metrics:
        for variant in model.metrics[name].variants:
            found = _phrase(variant.words).search(r.text)
            if found is None:
                continue
            start, end = found.span()
            hits = ctx.lexicon.metrics(r.text)
            inside = {h.name for h in hits if start <= h.start and h.end <= end}
            outside = {h.name for h in hits if h.end <= start or h.start >= end}
            metrics = [
                variant.metric if m == name else m
                for m in metrics
                if m == name or m not in inside or m in outside
            ]
            masked = blank(masked, start, end)
            break
    metrics = _without_qualifiers(metrics, r, ctx)
    kept = tuple(dict.fromkeys(metrics))
    if masked == r.masked and kept == r.metrics:
        return r  # no variant or qualifier named
    return amend(r, metrics=kept, masked=masked)


def _without_qualifiers(metrics: list[str], r: Reading, ctx: EngineContext) -> list[str]:
    """Drop the metrics read inside another metric's qualifier words (``names_metric: false``).

    "Tax given back on refunds and credit notes": "on refunds and credit notes" says which tax
    transactions count (read_filters reads it as a filter); its "refunds" and "credit notes" are
    no request for the refunds and credit-notes amounts.
    """
    hits = ctx.lexicon.metrics(r.text)
    out = list(metrics)
    for name in metrics:
        for f in ctx.model.metrics[name].implied_filters:
            found = None if f.names_metric else _phrase(f.words).search(r.text)
            if found is None:
                continue
            start, end = found.span()
            inside = {h.name for h in hits if start <= h.start and h.end <= end}
            outside = {h.name for h in hits if h.end <= start or h.start >= end}
            out = [m for m in out if m == name or m not in inside or m in outside]
    return out


def read_implied_dimensions(r: Reading, ctx: EngineContext) -> Reading:
    """Add the breakdowns the metrics' words imply; state the definitions of the dimensions used."""
    model = ctx.model
    dims, masked = list(r.dimensions), r.masked
    for name in r.metrics:
        for implied in model.metrics[name].implied_dimensions:
            found = _phrase(implied.words).search(r.text)
            if found is None:
                continue
            if implied.dimension not in dims:
                dims.append(implied.dimension)
            masked = blank(masked, *found.span())
    used = [] if r.listing else [*dims, *(f.dimension for f in r.filters)]
    notes = tuple(
        Assumption(key=f"{d}_definition", text=model.dimensions[d].definition)
        for d in dict.fromkeys(used)
        if d in model.dimensions and model.dimensions[d].definition
    )
    if masked == r.masked and not notes:
        return r
    return amend(r, dimensions=tuple(dims), masked=masked, assumptions=(*r.assumptions, *notes))
