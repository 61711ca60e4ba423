"""The local model's one error type: what went wrong and what to run about it."""

from __future__ import annotations

from app.core.errors import AssistantError


class LocalLLMError(AssistantError):
    """Installing, starting or reaching the local model failed; the message says what to do."""
