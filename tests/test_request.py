"""Request, Conversation, Answer: one typed request, one owner of the conversation, no mutation."""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.conversation import Conversation, PageContext
from app.core.plan import QueryPlan, TimeRange
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.router import Router

AS_OF = date(2025, 12, 31)
HOME = "acct_demo_01"  # reports in USD
JUNE = TimeRange(start=date(2025, 6, 1), end=date(2025, 7, 1), label="June 2025")


@pytest.fixture
def router(assistant: Assistant) -> Router:
    return Router(assistant.settings, assistant, engine_only=True)


@pytest.fixture(scope="module")
def eur_assistant(demo_path: Path) -> Iterator[Assistant]:
    a = Assistant(Settings(warehouse_path=demo_path, reporting_currency="EUR"))
    yield a
    a.session.close()


def test_an_answer_cannot_be_changed_once_returned(assistant: Assistant) -> None:
    answer = assistant.ask(Request("gross volume last month", as_of=AS_OF, account=HOME))
    assert answer.status == "answered"
    with pytest.raises(ValidationError, match="frozen"):
        answer.headline = "something else"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        answer.notices = ["edited"]  # type: ignore[misc]


def test_the_pipeline_reads_the_conversation_and_never_changes_it(assistant: Assistant) -> None:
    conversation = Conversation()
    answer = assistant.ask(
        Request("MRR by plan", as_of=AS_OF, account=HOME, conversation=conversation)
    )
    assert answer.status == "answered"
    assert conversation.answers == [] and conversation.previous is None


def test_the_router_adds_each_final_answer_once(router: Router) -> None:
    conversation = Conversation()
    first = router.ask(Request("MRR by plan", as_of=AS_OF, account=HOME, conversation=conversation))
    follow = router.ask(
        Request("and by currency?", as_of=AS_OF, account=HOME, conversation=conversation)
    )
    assert conversation.answers == [first, follow]
    assert first.plan is not None and follow.plan is not None
    assert follow.plan.metrics == first.plan.metrics and "currency" in follow.plan.dimensions
    assert conversation.previous == follow.plan
    conversation.answers.clear()  # a copy: the conversation itself is untouched
    assert len(conversation.answers) == 2


def test_a_refusal_keeps_the_plan_follow_ups_edit(router: Router) -> None:
    conversation = Conversation()
    first = router.ask(Request("MRR by plan", as_of=AS_OF, account=HOME, conversation=conversation))
    refused = router.ask(
        Request("what will MRR be next year?", as_of=AS_OF, account=HOME, conversation=conversation)
    )
    assert refused.status == "refused"
    assert conversation.previous == first.plan


def test_reporting_currency_setting_is_the_default_currency(
    assistant: Assistant, eur_assistant: Assistant
) -> None:
    question = "gross volume in June 2025"
    usd = assistant.ask(Request(question, as_of=AS_OF, account=HOME))
    eur = eur_assistant.ask(Request(question, as_of=AS_OF, account=HOME))
    assert (usd.currency, eur.currency) == ("usd", "eur")
    assert usd.plan == eur.plan and usd.plan is not None and usd.plan.currency is None
    explicit = assistant.answer_plan(
        usd.plan.model_copy(update={"currency": "eur"}), Request(question, as_of=AS_OF)
    )
    assert isinstance(eur.value, Decimal) and eur.value == explicit.value != usd.value
    assert any(a.key == "reporting_currency" and "EUR" in a.text for a in eur.assumptions)


def test_request_currency_wins_over_the_setting_and_the_question_over_both(
    eur_assistant: Assistant,
) -> None:
    gbp = eur_assistant.ask(
        Request("gross volume in June 2025", as_of=AS_OF, account=HOME, currency="gbp")
    )
    assert gbp.currency == "gbp"
    named = eur_assistant.ask(
        Request("gross volume in June 2025 in USD", as_of=AS_OF, account=HOME, currency="gbp")
    )
    assert named.status == "answered" and named.currency == "usd"


def test_follow_ups_from_a_page_start_from_its_plan_until_the_page_changes(
    router: Router,
) -> None:
    mrr = QueryPlan(metrics=("mrr",), time=JUNE)
    gross = QueryPlan(metrics=("gross_volume",), time=JUNE)
    conversation = Conversation()
    page = PageContext(name="revenue", plan=mrr, key="june")
    by_plan = router.ask(
        Request(
            "break this down by plan",
            as_of=AS_OF,
            account=HOME,
            page=page,
            conversation=conversation,
        )
    )
    assert by_plan.plan is not None and by_plan.plan.metrics == ("mrr",)
    assert by_plan.plan.dimensions == ("plan",)
    again = router.ask(
        Request("and by currency?", as_of=AS_OF, account=HOME, page=page, conversation=conversation)
    )
    assert again.plan is not None and set(again.plan.dimensions) >= {"plan", "currency"}
    moved = PageContext(name="payments", plan=gross, key="june")
    other = router.ask(
        Request(
            "break this down by country",
            as_of=AS_OF,
            account=HOME,
            page=moved,
            conversation=conversation,
        )
    )
    assert other.plan is not None and other.plan.metrics == ("gross_volume",)
