"""Ledgerlens: exact, explained answers to finance questions over Stripe-shaped data."""

from app.core.answer import Answer
from app.core.errors import AssistantError, CompileError, ExecutionError, GuardError, QueryTimeout
from app.core.plan import CannotAnswer, NeedsClarification, QueryPlan
from app.core.settings import Settings

__all__ = [
    "Answer",
    "AssistantError",
    "CannotAnswer",
    "CompileError",
    "ExecutionError",
    "GuardError",
    "NeedsClarification",
    "QueryPlan",
    "QueryTimeout",
    "Settings",
]
