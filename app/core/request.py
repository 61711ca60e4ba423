"""Request: one question with everything that decides its answer, passed to every entry point."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app.core.conversation import Conversation, PageContext
from app.core.plan import QueryPlan


@dataclass(frozen=True)
class Request:
    """A question for one account as of a date, in a reporting currency, maybe from a page."""

    question: str
    as_of: date
    account: str | None = None  # None: the `default_account` setting
    currency: str | None = None  # reporting currency; None: the setting's, else the account's
    page: PageContext | None = None
    conversation: Conversation | None = field(default=None, compare=False)

    @property
    def previous(self) -> QueryPlan | None:
        """The plan a follow-up question edits, if any."""
        if self.conversation is not None:
            return self.conversation.previous_for(self.page)
        return self.page.plan if self.page is not None else None
