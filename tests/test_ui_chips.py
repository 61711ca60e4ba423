"""Every answer shows what it is about as chips: metric, filters, period (with zone), currency."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui_support import (
    ask,
    assert_no_failure,
    chat,
    open_app,
    plain,
    release_app_caches,  # noqa: F401 (autouse fixture)
)

QUESTION = "VAT collected in Germany in 2025"
# One badge of Streamlit's Markdown: :colour-badge[:material/icon: text] (text escaped).
_BADGE = re.compile(r":(\w+)-badge\[:material/\w+: ((?:\\.|[^\]\\])*)\]")


def chips(at: AppTest) -> list[list[tuple[str, str]]]:
    """The chips of each answer on the page, as (colour, text) in the order drawn."""
    rows = [_BADGE.findall(m.value) for m in at.markdown]
    return [[(colour, plain(text)) for colour, text in row] for row in rows if row]


EXPECTED = [
    ("blue", "Tax collected"),
    ("orange", "Tax country: Germany"),
    ("orange", "Tax type: VAT"),
    ("violet", "2025 (America/New_York)"),
    ("green", "USD"),
]


def test_the_ask_page_answer_shows_metric_filters_period_and_currency(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), QUESTION)
    assert_no_failure(at)
    answer = chat(at).turns[-1].answer
    assert answer is not None and answer.status == "answered"
    assert chips(at) == [EXPECTED]
    assert answer.filters == ["tax country is Germany", "tax type is VAT"]


def test_a_page_panel_answer_shows_its_chips_too(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = open_app(monkeypatch, demo_path)
    at.switch_page("views/tax.py").run()
    at = ask(at, QUESTION, key="panel-input-tax")
    assert_no_failure(at)
    assert chips(at) == [EXPECTED]


def test_a_breakdown_and_another_currency_are_chips(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = open_app(monkeypatch, demo_path)
    at.sidebar.selectbox(key="account").set_value("acct_demo_02").run()
    at = ask(at, "gross volume by payment method last quarter")
    assert_no_failure(at)
    [shown] = chips(at)
    assert shown[0] == ("blue", "Gross volume")
    assert shown[1] == ("gray", "By payment method type")
    colour, period = shown[2]
    assert colour == "violet" and period.startswith("Last quarter, Q") and "(Europe/" in period
    assert shown[3] == ("green", "EUR")
