"""What the HTTP API takes and gives: conversations, messages with page context, problems."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.plan import Filter


class _In(BaseModel):
    # Unknown fields are refused: a message has no `account` field to switch the account with.
    model_config = ConfigDict(extra="forbid")


class NewConversation(_In):
    """A conversation on one account, as of a date, in a reporting currency; all fixed for good."""

    account: str | None = Field(None, description="Merchant account; default: the setting's.")
    as_of: date | None = Field(None, description="Answer as of this date; default: latest data.")
    currency: str | None = Field(
        None, min_length=3, max_length=3, description="Reporting currency, e.g. usd."
    )


class ConversationOut(BaseModel):
    """A conversation: its id and what is fixed in it."""

    id: str
    account: str
    as_of: date | None = None
    currency: str | None = None
    messages: int = Field(0, description="How many answers it holds.")


class PagePeriod(_In):
    """The half-open date range the page shows."""

    start: date
    end: date = Field(description="Exclusive end date.")


class Page(_In):
    """The reporting page a question is asked from: the metric, period and filters on screen."""

    name: str = Field("", max_length=200, description="The page's name, e.g. 'Revenue'.")
    metric: str = Field(description="A metric of the semantic model, e.g. gross_volume.")
    period: PagePeriod | None = None
    filters: list[Filter] = Field(default_factory=list, max_length=20)


class NewMessage(_In):
    """One question in a conversation, maybe asked from a reporting page."""

    question: str = Field(description="The question in words, or a pasted SELECT.")
    page: Page | None = None

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("The question is empty; ask a question in words or paste a SELECT.")
        return value


class Problem(BaseModel):
    """An error as problem details (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
