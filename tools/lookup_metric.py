"""Tool: a metric word or synonym → the metric's definition, unit, grain and SQL shape."""

from __future__ import annotations

import difflib
import re

from app.semantic.model import Metric, SemanticModel
from tools.context import ToolContext


def _norm(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text.lower()).strip()


def _phrases(model: SemanticModel) -> dict[str, str]:
    """Every word that names a metric (name, label, synonym, implied-filter word) → metric."""
    out: dict[str, str] = {}
    for m in model.metrics.values():
        for word in (
            m.name,
            m.label,
            *m.synonyms,
            *(w for f in m.implied_filters if f.names_metric for w in f.words),
        ):
            out.setdefault(_norm(word), m.name)
    return out


def describe_metric(m: Metric, model: SemanticModel) -> str:
    """A metric's full description as text for the model."""
    lines = [f"{m.name} ({m.label}): {m.definition}"]
    if m.unit == "money":
        unit = "money; summed in minor units, converted to the reporting currency"
        if m.currency:
            unit += f" (currency column {m.currency})"
    else:
        unit = m.unit
    lines.append(f"Unit: {unit}.")
    kinds = {
        "flow": "flow (summed over the period)",
        "stock": "stock (running total up to the end of the period or as-of day)",
        "snapshot": "snapshot (open documents issued on or before the as-of day)",
        "ratio": "ratio of two metrics",
        "custom": "custom SQL template (totals only, no breakdowns)",
        "movement": "MRR movement (each customer's month-end MRR against the previous month's)",
    }
    lines.append(f"Aggregation: {kinds[m.aggregation]}; grains: {', '.join(m.grains)}.")
    if m.aggregation == "ratio":
        extra = f"{m.offset} + " if m.offset else ""
        at = " (denominator at the start of the period)" if m.denominator_at == "start" else ""
        lines.append(f"Formula: {extra}{m.numerator} / {m.denominator}{at}.")
    elif m.aggregation == "custom":
        lines.append(f"SQL template over {m.table} (@start/@end are the period bounds):")
        lines.append((m.template or "").strip())
    else:
        where = f" WHERE {' AND '.join(m.where)}" if m.where else ""
        zone = "account time zone" if m.time_zone == "local" else "UTC"
        lines.append(f"SQL: SELECT {m.measure} FROM {m.table}{where}")
        lines.append(f"Time column: {m.time} ({zone}).")
        if m.entity and m.movement:
            lines.append(f"Classified per {m.entity} and month: {m.movement} movements only.")
        elif m.entity:
            lines.append(f"Counts distinct {m.entity} with a positive running total.")
    for f in m.implied_filters:
        lines.append(f"Word '{f.words[0]}' also filters {f.dimension} = {', '.join(f.values)}.")
    if m.synonyms:
        lines.append(f"Synonyms: {', '.join(m.synonyms)}.")
    return "\n".join(lines)


def lookup_metric(ctx: ToolContext, word: str) -> str:
    """Look up a business metric by name or synonym: definition, unit, grain and SQL shape.

    Use it before planning when the question names a metric that is not in the context, or to
    check what a metric counts exactly.

    Args:
        word: A metric name or the user's word for it, e.g. 'MRR', 'churn' or 'VAT'.

    """
    model = ctx.session.model
    key = _norm(word)
    if not key:
        return "Give a metric name or word, e.g. 'gross volume' or 'MRR'."
    for amb in model.ambiguous:
        if key in {_norm(w) for w in amb.words}:
            options = [o for o in (amb.default, *amb.alternatives) if o]
            head = f"'{word}' is ambiguous"
            default = f"; default reading: {amb.default} ({amb.note})" if amb.default else ""
            return (
                f"{head}{default}. Candidates: {', '.join(options)}. "
                "State the reading you choose as an assumption."
            )
    phrases = _phrases(model)
    if key in phrases:
        return describe_metric(model.metrics[phrases[key]], model)
    close = difflib.get_close_matches(key, list(phrases), n=8, cutoff=0.6)
    names = list(dict.fromkeys(phrases[c] for c in close))[:5]
    if not names:  # fall back to word overlap with the metric vocabulary
        wanted = set(key.split())
        names = [m for p, m in phrases.items() if wanted & set(p.split())]
        names = list(dict.fromkeys(names))[:5]
    hint = f"closest: {', '.join(names)}" if names else f"metrics: {', '.join(model.metrics)}"
    return f"No metric matches '{word}'; {hint}."
