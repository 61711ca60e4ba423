"""Real questions against a real model (`pytest -m live`); skipped without an API key or URL.

These are the only tests that measure anything about a model's quality, and only when someone
points them at one. They never run in CI (no machine there reaches a model).
"""

from __future__ import annotations

import os
from datetime import date

import pytest

from app.core.request import Request
from app.core.settings import Settings
from app.router import Router

pytestmark = pytest.mark.live

_CONFIGURED = bool(os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))
_REASON = "live model tests need OPENAI_API_KEY or OPENAI_BASE_URL (run: pytest -m live)"

QUESTIONS = [
    # (question the engine cannot plan, reference SQL scoped to acct_demo_01)
    (
        "What is the average number of line items per invoice in 2025?",
        "SELECT count(*) * 1.0 / count(DISTINCT l.invoice_id) FROM invoice_line_items l "
        "JOIN invoices i ON i.id = l.invoice_id AND i.merchant_id = l.merchant_id "
        "WHERE l.merchant_id = 'acct_demo_01' AND i.created >= '2025-01-01' "
        "AND i.created < '2026-01-01'",
    ),
    (
        "What share of 2025 invoices were paid?",
        "SELECT avg(CASE WHEN status = 'paid' THEN 1.0 ELSE 0 END) FROM invoices "
        "WHERE merchant_id = 'acct_demo_01' AND created >= '2025-01-01' "
        "AND created < '2026-01-01'",
    ),
]


@pytest.fixture(scope="module")
def live_router(demo_path):
    if not _CONFIGURED:
        pytest.skip(_REASON)
    router = Router(Settings(warehouse_path=demo_path))
    yield router
    router.assistant.session.executor.close()


@pytest.mark.enable_socket
@pytest.mark.parametrize("question,reference", QUESTIONS, ids=["line_items", "paid_share"])
def test_live_question_answers_or_refuses_honestly(live_router, question, reference):
    answer = live_router.ask(Request(question, as_of=date(2025, 12, 31), account="acct_demo_01"))
    assert answer.status in ("answered", "refused")
    if answer.status == "answered":
        assert answer.sql and "merchant_id" in answer.sql
        assert answer.llm is not None and answer.llm.calls >= 1
