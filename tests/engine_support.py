"""The engine's context for planner tests: the packaged model, no account data, mid-July 2025."""

from __future__ import annotations

from datetime import date

from app.core.plan import QueryPlan
from app.semantic.load import semantic_model
from app.understand import EngineContext, lexicon_for

MODEL = semantic_model()
LEX = lexicon_for(MODEL, {})
AS_OF = date(2025, 7, 15)


def ctx(previous: QueryPlan | None = None) -> EngineContext:
    """An engine context for acct_demo_01 as of AS_OF, editing `previous` when given."""
    return EngineContext(
        model=MODEL, lexicon=LEX, as_of=AS_OF, account="acct_demo_01", previous=previous
    )
