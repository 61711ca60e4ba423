"""A conversation: its answers and the plan a follow-up edits, changed only by its methods."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.answer import Answer
from app.core.plan import QueryPlan


@dataclass(frozen=True)
class PageContext:
    """The reporting page a question is asked from: its name, the plan it shows, a state key."""

    name: str = ""
    plan: QueryPlan | None = None
    key: str = ""  # changes when what the page shows changes; follow-ups then restart from `plan`


class Conversation:
    """One user's conversation; the router adds each final answer, nothing else changes it."""

    def __init__(self, previous: QueryPlan | None = None) -> None:
        """Start empty; `previous` is the plan the first follow-up edits (e.g. a page's plan)."""
        self._answers: list[Answer] = []
        self._previous = previous
        self._page: PageContext | None = None

    @property
    def answers(self) -> list[Answer]:
        """The kept answers, oldest first (a copy: adding goes through `add`)."""
        return list(self._answers)

    @property
    def previous(self) -> QueryPlan | None:
        """The plan of the latest answered plan question (or the starting plan)."""
        return self._previous

    def previous_for(self, page: PageContext | None) -> QueryPlan | None:
        """The plan a follow-up asked from `page` edits: the page's own once the page changed."""
        if page is not None and page != self._page:
            return page.plan
        return self._previous

    def add(self, answer: Answer, *, keep: int, page: PageContext | None = None) -> None:
        """Keep an answer (at most `keep`, oldest dropped); an answered plan becomes `previous`."""
        self._answers.append(answer)
        del self._answers[: max(0, len(self._answers) - keep)]
        if page is not None and page != self._page:
            self._page = page
            self._previous = page.plan
        if answer.status == "answered" and answer.plan is not None:
            self._previous = answer.plan
