"""UI helpers without a running app: escaping, CSV export, money formats, follow-up questions."""

import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.core.answer import Answer, Column
from app.core.conversation import Conversation
from app.core.plan import QueryPlan
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.ui.followups import follow_ups
from app.ui.tables import answer_frame, csv_bytes, styled
from app.ui.text import escape_delta, escape_md, one_line

AS_OF = date(2025, 12, 31)
EVIL = "![x](http://127.0.0.1:9/p.png) <img src=x onerror=alert(1)> **b** :red[c] $x$ `d`"


def test_escape_md_escapes_every_markdown_and_html_character() -> None:
    out = escape_md(EVIL)
    for ch in "![]()<>*:$`":
        assert ch in EVIL
        assert all(out[i - 1] == "\\" for i, c in enumerate(out) if c == ch)
    assert escape_md("Net revenue 1,234.50") == "Net revenue 1\\,234\\.50"


def test_escape_md_keeps_line_breaks_as_breaks() -> None:
    assert escape_md("a\nb") == "a  \nb"


def test_escape_delta_keeps_the_sign_that_picks_the_arrow() -> None:
    assert escape_delta("-$1,234.00 (-5.0%)") == "-\\$1\\,234\\.00 \\(\\-5\\.0\\%\\)"
    assert escape_delta("+12") == "+12"
    assert escape_delta(None) is None


def test_one_line_collapses_and_cuts() -> None:
    assert one_line("a\n  b\tc") == "a b c"
    assert one_line("x" * 300, limit=10) == "x" * 9 + "…"


def test_table_text_comes_from_the_formatter_and_cells_stay_numbers() -> None:
    ans = Answer(
        status="answered",
        question="q",
        plan=QueryPlan(
            metrics=("gross_volume",), grain="month", dimensions=("payment_method_type",)
        ),
        columns=[
            Column(name="period", kind="date", label="Month"),
            Column(name="payment_method_type", kind="label", label="Payment method type"),
            Column(name="gross_volume", kind="money", currency="usd", label="Gross volume"),
            Column(name="refund_rate", kind="ratio", label="Refund rate"),
        ],
        rows=[
            [date(2025, 1, 1), "bacs_debit", Decimal("-1253.19"), Decimal("0.0123")],
            [date(2025, 2, 1), "card", None, None],
        ],
    )
    frame = answer_frame(ans)
    assert frame["gross_volume"].tolist()[0] == -1253.19  # sorts as a number
    text = styled(ans).to_string(delimiter="|")
    assert "January 2025|Bacs Direct Debit|−$1,253.19|1.23%" in text
    assert "February 2025|Card|—|—" in text


def test_money_per_row_currency_in_a_table() -> None:
    ans = Answer(
        status="answered",
        question="q",
        columns=[
            Column(name="currency", kind="label", label="Currency"),
            Column(name="amount", kind="money", label="Amount"),
        ],
        rows=[["eur", Decimal("-5")], ["jpy", Decimal("1234.4")]],
    )
    text = styled(ans).to_string(delimiter="|")
    assert "EUR|−€5.00" in text and "JPY|¥1,234" in text


def test_csv_keeps_exact_values_and_disarms_formulas() -> None:
    ans = Answer(
        status="answered",
        question="q",
        columns=[
            Column(name="period", kind="date", label="Month"),
            Column(name="customer", kind="label", label="Customer"),
            Column(name="mrr", kind="money", currency="usd", label="MRR"),
        ],
        rows=[
            [date(2025, 1, 1), '=HYPERLINK("http://x")', Decimal("1234.10")],
            [date(2025, 2, 1), "-cmd", Decimal("-0.05")],
            [date(2025, 3, 1), None, None],
        ],
    )
    lines = csv_bytes(ans).decode().splitlines()
    assert lines[0] == "Month,Customer,MRR (USD)"
    assert lines[1] == '2025-01-01,"\'=HYPERLINK(""http://x"")",1234.10'
    assert lines[2] == "2025-02-01,'-cmd,-0.05"
    assert lines[3] == "2025-03-01,,"


QUESTIONS = [
    "MRR by month this year",
    "gross volume last quarter",
    "tax collected by jurisdiction this year",
    "refund rate last month",
    "churn rate last quarter",
    "top 5 customers by revenue this year",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_offered_follow_up_is_answered_by_editing_the_plan(
    assistant: Assistant, question: str
) -> None:
    first = assistant.ask(Request(question, as_of=AS_OF, account="acct_demo_01", conversation=None))
    assert first.status == "answered" and first.plan is not None
    offered = follow_ups(first.plan, assistant.model)
    assert 1 <= len(offered) <= 3
    for follow_up in offered:
        conv = Conversation(previous=first.plan)
        ans = assistant.ask(
            Request(follow_up, as_of=AS_OF, account="acct_demo_01", conversation=conv)
        )
        assert ans.status == "answered", (question, follow_up, ans.headline)
        assert ans.plan is not None and ans.plan != first.plan
        assert ans.plan.metrics == first.plan.metrics


def test_no_follow_ups_for_lists_or_raw_sql(assistant: Assistant) -> None:
    ans = assistant.ask(Request("unpaid invoices over $1,000", as_of=AS_OF, account="acct_demo_01"))
    assert ans.plan is not None and ans.plan.listing is not None
    assert follow_ups(ans.plan, assistant.model) == []
    assert follow_ups(None, assistant.model) == []


def test_only_app_ui_imports_streamlit() -> None:
    root = Path(__file__).resolve().parent.parent / "app"
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "ui" not in p.relative_to(root).parts[:1]
        and re.search(r"^\s*(import|from)\s+streamlit\b", p.read_text(), re.M)
    ]
    assert offenders == []
    code = "import sys, app, app.pipeline.assistant, app.cli; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_table_that_adds_up_ends_with_its_total_and_shows_shares() -> None:
    ans = Answer(
        status="answered",
        question="q",
        plan=QueryPlan(metrics=("gross_volume",), dimensions=("card_brand",)),
        columns=[
            Column(name="card_brand", kind="label", label="Card brand"),
            Column(name="gross_volume", kind="money", currency="usd", label="Gross volume"),
        ],
        rows=[["Visa", Decimal("300.00")], [None, Decimal("100.00")]],
        total=[None, Decimal("400.00")],
        shares=[Decimal("0.75"), Decimal("0.25")],
    )
    text = styled(ans).to_string(delimiter="|")
    assert "Visa|$300.00|75.00%" in text and "|$100.00|25.00%" in text
    assert "Total|$400.00|100.00%" in text
    assert list(answer_frame(ans).columns) == ["card_brand", "gross_volume"]  # charts: rows only
    assert len(answer_frame(ans)) == 2
