"""Follow-up questions offered under an answer, phrased for the engine's follow-up editing."""

from __future__ import annotations

from app.core.plan import QueryPlan
from app.semantic.model import SemanticModel

# Breakdowns worth offering, most useful first; only those every metric of the plan can reach.
_DIMENSIONS = ("plan", "customer_country", "payment_method_type", "tax_jurisdiction", "product")


def _tables(name: str, model: SemanticModel) -> set[str] | None:
    m = model.metrics[name]
    if m.aggregation == "custom":
        return None
    if m.aggregation == "ratio":
        out: set[str] = set()
        for ref in (m.numerator, m.denominator):
            sub = _tables(ref, model) if ref else None
            if sub is None:
                return None
            out |= sub
        return out
    return {m.table} if m.table else None


def reachable_dimension(plan: QueryPlan, model: SemanticModel) -> str | None:
    """The first useful dimension every metric of the plan can be broken down by."""
    tables: set[str] = set()
    for name in plan.metrics:
        sub = _tables(name, model)
        if sub is None:
            return None
        tables |= sub
    for dim in _DIMENSIONS:
        if dim in plan.dimensions or dim not in model.dimensions:
            continue
        target = model.dimensions[dim].table
        if all(model.join_path(t, target) is not None for t in tables):
            return dim
    return None


def follow_ups(plan: QueryPlan | None, model: SemanticModel, limit: int = 3) -> list[str]:
    """Two or three follow-up questions that edit `plan` (empty for lists, statements, raw SQL)."""
    if plan is None or plan.listing is not None or plan.statement is not None:
        return []
    out: list[str] = []
    label = plan.time.label if plan.time is not None else ""
    if any(model.metrics[m].aggregation == "custom" for m in plan.metrics):
        # Vetted SQL templates answer totals only: offer other periods, nothing else.
        others = ("What about last year?", "What about last quarter?")
        return [q for q in others if q.split("about ")[1].rstrip("?") not in label][:limit]
    dim = reachable_dimension(plan, model)
    if dim is not None and len(plan.dimensions) < 2:
        out.append(f"Break this down by {model.dimensions[dim].synonyms[0]}")
    if plan.grain is None and plan.time is not None:
        out.append("Show this by month")
    if plan.comparison is None and plan.time is not None:
        out.append("Compare vs previous period")
    if plan.time is not None and "last year" not in label:
        out.append("What about last year?")
    return out[:limit]
