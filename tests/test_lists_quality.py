"""Lists answer what had happened by the as-of day, in the account's own days (lists.yaml
`local:` columns, app/sql/compile/listing.py), with the column names Stripe's Sigma uses."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.core.answer import Answer
from app.core.conversation import Conversation
from app.core.request import Request
from app.pipeline.assistant import Assistant

EUR = "acct_demo_02"  # Europe/Berlin
HOME = "acct_demo_01"  # America/New_York


def ask(assistant: Assistant, question: str, as_of: date, account: str = HOME) -> Answer:
    request = Request(question, as_of=as_of, account=account, conversation=Conversation())
    answer = assistant.ask(request)
    assert answer.status == "answered", (answer.status, answer.headline, answer.error)
    return answer


def rows(answer: Answer) -> list[dict[str, Any]]:
    names = [c.name for c in answer.columns]
    return [dict(zip(names, r, strict=True)) for r in answer.rows]


def sql_rows(assistant: Assistant, sql: str, account: str = HOME) -> list[tuple[Any, ...]]:
    return list(assistant.session.run_sql(sql, account).rows)


def test_a_list_without_a_period_stops_at_the_as_of_day(assistant: Assistant) -> None:
    answer = ask(assistant, "List the 5 most recent refunds", date(2025, 6, 30), EUR)
    want = sql_rows(
        assistant,
        "SELECT id FROM refunds WHERE timezone('Europe/Berlin', created AT TIME ZONE 'UTC') "
        "< TIMESTAMP '2025-07-01' ORDER BY created DESC, id LIMIT 5",
        EUR,
    )
    got = rows(answer)
    assert [(r["refund"],) for r in got] == want
    assert all(r["day"] <= date(2025, 6, 30) for r in got)


def test_a_rows_date_is_its_day_in_the_accounts_time_zone(assistant: Assistant) -> None:
    answer = ask(assistant, "Show the 200 most recent charges", date(2025, 12, 31))
    days = sql_rows(
        assistant,
        "SELECT id, CAST(timezone('America/New_York', created AT TIME ZONE 'UTC') AS DATE), "
        "CAST(created AS DATE) FROM charges ORDER BY created DESC, id LIMIT 200",
    )
    got = rows(answer)
    assert [(r["charge"], r["day"]) for r in got] == [(i, local) for i, local, _ in days]
    assert any(local != utc for _, local, utc in days), "some charge falls on another UTC day"


def test_ids_of_other_objects_and_emails_carry_sigma_names(assistant: Assistant) -> None:
    answer = ask(
        assistant,
        "Show the 5 most recent refunds with the charge and the customer's email",
        date(2025, 12, 31),
    )
    names = [c.name for c in answer.columns]
    assert {"refund", "day", "charge", "email", "amount", "currency"} <= set(names)
    assert all(r["charge"].startswith("ch_") for r in rows(answer))
