"""Asking the assistant in tests: an answered Answer, and its rows by column name."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.core.answer import Answer
from app.core.conversation import Conversation
from app.core.request import Request
from app.pipeline.assistant import Assistant


def answered(assistant: Assistant, question: str, *, as_of: date, account: str) -> Answer:
    """Ask one question in a fresh conversation; fail the test unless it is answered."""
    request = Request(question, as_of=as_of, account=account, conversation=Conversation())
    answer = assistant.ask(request)
    assert answer.status == "answered", (answer.status, answer.headline, answer.error)
    return answer


def rows(answer: Answer) -> list[dict[str, Any]]:
    """The answer's rows as dicts keyed by column name."""
    names = [c.name for c in answer.columns]
    return [dict(zip(names, r, strict=True)) for r in answer.rows]
