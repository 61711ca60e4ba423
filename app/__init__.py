"""Ledgerlens: exact, explained answers to finance questions over Stripe-shaped data."""

from app.answer import Answer
from app.errors import AssistantError, CompileError, ExecutionError, GuardError, QueryTimeout
from app.plan import CannotAnswer, NeedsClarification, QueryPlan
from app.settings import Settings

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
