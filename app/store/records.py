"""What the app-state store gives back: typed rows of conversations, shares, feedback, verified."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.answer import Answer
from app.core.plan import QueryPlan

Rating = Literal["up", "down"]
Scope = Literal["account", "global"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConversationSummary(_Record):
    """One line of a user's history list: the first question, how many turns, when."""

    id: str
    account: str
    created: datetime
    title: str = Field("", description="The first question asked in it.")
    turns: int = 0
    last: datetime | None = Field(None, description="When its latest turn was recorded.")
    as_of: date | None = Field(None, description="The date it answers as of (None: latest data).")
    currency: str | None = Field(None, description="Its reporting currency (None: the default).")


class Turn(_Record):
    """One question of a conversation with its full Answer (plan, SQL) and result hash."""

    id: int
    conversation_id: str
    seq: int
    question: str
    account: str
    as_of: date | None
    currency: str | None
    answer: Answer
    result_hash: str | None
    created: datetime


class Share(_Record):
    """What a share token reproduces: the question, its account, as-of date, currency and plan."""

    token: str
    turn_id: int | None
    user: str
    question: str
    account: str
    as_of: date | None
    currency: str | None
    plan: QueryPlan | None
    sql: str | None
    result_hash: str | None
    created: datetime


class Feedback(_Record):
    """A thumbs up or down on one answer, with the plan, SQL and result hash it judged."""

    id: int
    turn_id: int
    user: str
    rating: Rating
    correction: str = ""
    question: str
    account: str
    as_of: date | None
    currency: str | None
    history: list[str] = Field(
        default_factory=list, description="Earlier questions of the same conversation."
    )
    answer: Answer
    plan: QueryPlan | None
    sql: str | None
    result_hash: str | None
    created: datetime


class Verified(_Record):
    """An answer a finance owner vouched for, with the model and schema it was checked against."""

    id: int
    turn_id: int | None
    account: str | None = Field(description="The account it applies to; None: every account.")
    question: str
    history: list[str] = Field(
        default_factory=list, description="Earlier questions of the conversation it came from."
    )
    as_of: date | None
    currency: str | None
    plan: QueryPlan | None
    sql: str | None
    answer: Answer
    by: str
    at: datetime
    model_sha: str
    schema_fingerprint: str

    @property
    def scope(self) -> Scope:
        """Whether it applies to its own account or to every account."""
        return "global" if self.account is None else "account"
