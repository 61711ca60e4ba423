"""The reporting pages in AppTest: KPIs equal hand-written SQL, and the embedded assistant."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.core.conversation import Conversation
from app.core.plan import Comparison, QueryPlan
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.ui.assistant_panel import PagePanel
from app.understand.time import parse_time
from tests.ui_reference import (
    GROSS_VOLUME,
    MRR_AT,
    RECOGNIZED_REVENUE,
    TAX_COLLECTED,
    money,
    total,
    whole_money,
)
from tests.ui_support import (
    ask,
    assert_no_failure,
    chat,
    open_app,
    plain,
    release_app_caches,  # noqa: F401 (autouse fixture)
)

ACCOUNT = "acct_demo_01"
YEAR = (date(2025, 1, 1), date(2026, 1, 1))


def page(monkeypatch: pytest.MonkeyPatch, demo_path: Path, path: str) -> AppTest:
    at = open_app(monkeypatch, demo_path)
    at.switch_page(path).run()
    assert_no_failure(at)
    return at


def kpi(at: AppTest, label: str) -> str:
    return next(plain(m.value) for m in at.metric if plain(m.label) == label)


@pytest.mark.parametrize(
    ("path", "label", "base", "period"),
    [
        ("views/revenue.py", "MRR", MRR_AT, (date(2025, 1, 1), date(2025, 12, 31))),
        ("views/payments.py", "Gross volume", GROSS_VOLUME, YEAR),
        ("views/tax.py", "Tax collected", TAX_COLLECTED, (date(2025, 7, 1), date(2025, 10, 1))),
        ("views/revenue_recognition.py", "Recognized revenue", RECOGNIZED_REVENUE, YEAR),
    ],
)
def test_page_kpi_equals_sql(
    monkeypatch: pytest.MonkeyPatch,
    demo_path: Path,
    path: str,
    label: str,
    base: str,
    period: tuple[date, date],
) -> None:
    at = page(monkeypatch, demo_path, path)
    expected = total(demo_path, base, account=ACCOUNT, start=period[0], end=period[1])
    assert kpi(at, label) == whole_money(expected)
    assert at.dataframe, "each page shows its table"
    assert any(b.label.startswith("Download") for b in at.get("download_button"))
    assert at.chat_input, "each page embeds the assistant"


def test_changing_the_period_changes_the_numbers(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = page(monkeypatch, demo_path, "views/payments.py")
    at.selectbox(key="payments-period").set_value("Last year").run()
    assert_no_failure(at)
    expected = total(
        demo_path, GROSS_VOLUME, account=ACCOUNT, start=date(2024, 1, 1), end=date(2025, 1, 1)
    )
    assert kpi(at, "Gross volume") == whole_money(expected)


def test_tax_report_download_is_exact_csv(monkeypatch: pytest.MonkeyPatch, demo_path: Path) -> None:
    at = page(monkeypatch, demo_path, "views/tax.py")
    shown = next(d.value for d in at.dataframe if "tax_country" in d.value.columns)
    # Tax adds up across jurisdictions: the table ends with a Total row and has a Share column.
    assert list(shown.columns) == [
        "tax_country", "tax_jurisdiction", "tax_type", "tax_collected", "share"
    ]  # fmt: skip
    report, total_row = shown.iloc[:-1], shown.iloc[-1]
    assert total_row["tax_collected"] == pytest.approx(report["tax_collected"].sum())
    assert total_row["share"] == 1 and report["share"].sum() == pytest.approx(1)
    expected = total(
        demo_path, TAX_COLLECTED, account=ACCOUNT, start=date(2025, 7, 1), end=date(2025, 10, 1)
    )
    # Each row is converted to USD and rounded to the cent on its own, so rows may differ from
    # the converted total by up to half a cent each.
    assert abs(report["tax_collected"].sum() - float(expected)) <= 0.005 * len(report) + 1e-9


def test_revenue_panel_breaks_the_page_metric_down_by_plan(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = page(monkeypatch, demo_path, "views/revenue.py")
    at = ask(at, "break this down by plan", key="panel-input-revenue")
    assert_no_failure(at)
    answer = chat(at, "panel:revenue").turns[-1].answer
    assert answer is not None and answer.plan is not None
    assert answer.plan.metrics == ("mrr",)
    assert answer.plan.dimensions == ("plan",) and answer.plan.grain == "month"
    assert answer.plan.time is not None and answer.plan.time.start == date(2025, 1, 1)


def test_panel_example_button_asks_about_the_page(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = page(monkeypatch, demo_path, "views/payments.py")
    at.button(key="panel-payments-example-2").click().run()  # "Compare vs previous period"
    assert_no_failure(at)
    answer = chat(at, "panel:payments").turns[-1].answer
    assert answer is not None and answer.plan is not None
    assert answer.plan.metrics == ("gross_volume",)
    assert answer.plan.comparison is not None
    assert answer.plan.grain == "month"


def test_panel_follows_the_page_period(monkeypatch: pytest.MonkeyPatch, demo_path: Path) -> None:
    at = page(monkeypatch, demo_path, "views/tax.py")
    at.selectbox(key="tax-period").set_value("This year").run()
    at = ask(at, "show this by month", key="panel-input-tax")
    assert_no_failure(at)
    answer = chat(at, "panel:tax").turns[-1].answer
    assert answer is not None and answer.plan is not None
    assert answer.plan.metrics == ("tax_collected",)
    assert answer.plan.dimensions == ("tax_jurisdiction",) and answer.plan.grain == "month"
    assert answer.plan.time is not None and answer.plan.time.start == date(2025, 1, 1)


def test_panel_answers_a_new_question_too(monkeypatch: pytest.MonkeyPatch, demo_path: Path) -> None:
    at = page(monkeypatch, demo_path, "views/revenue_recognition.py")
    at = ask(at, "deferred revenue as of June 30", key="panel-input-revrec")
    assert_no_failure(at)
    answer = chat(at, "panel:revrec").turns[-1].answer
    assert answer is not None and answer.plan is not None
    assert answer.plan.metrics == ("deferred_revenue",)


def test_revenue_panel_why_did_it_drop_in_march(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = page(monkeypatch, demo_path, "views/revenue.py")
    at = ask(at, "why did it drop in March?", key="panel-input-revenue")
    answer = chat(at, "panel:revenue").turns[-1].answer
    assert answer is not None and answer.status == "answered"
    # "Why" is answered with the change vs February and MRR's components (new, expansion, ...).
    assert answer.plan is not None and answer.plan.metrics[0] == "mrr"
    assert {"new_mrr", "churned_mrr"} <= set(answer.plan.metrics)
    assert answer.plan.comparison is not None
    assert answer.plan.time is not None and answer.plan.time.start == date(2025, 3, 1)
    assert any(a.key == "why_change" for a in answer.assumptions)


def test_page_context_describes_the_plan(monkeypatch: pytest.MonkeyPatch, demo_path: Path) -> None:
    at = page(monkeypatch, demo_path, "views/revenue.py")
    caption = next(plain(c.value) for c in at.caption if "Questions start from" in plain(c.value))
    assert caption == "Questions start from what this page shows: MRR · by month · this year · USD."
    assert PagePanel.__dataclass_fields__.keys() >= {"plan", "selection", "page"}


def test_every_page_runs_for_every_account(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = open_app(monkeypatch, demo_path)
    for account in ("acct_demo_02", "acct_demo_03"):
        at.sidebar.selectbox(key="account").set_value(account).run()
        for path in ("views/revenue.py", "views/payments.py", "views/tax.py"):
            at.switch_page(path).run()
            assert_no_failure(at)
            assert len(at.metric) >= 4
        currency = "€" if account == "acct_demo_02" else "£"
        assert plain(at.metric[0].value).startswith(currency)


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("views/revenue.py", "revenue"),
        ("views/payments.py", "payments"),
        ("views/tax.py", "tax"),
        ("views/revenue_recognition.py", "revrec"),
    ],
)
def test_every_panel_example_is_answered_from_the_page_plan(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, path: str, key: str
) -> None:
    at = page(monkeypatch, demo_path, path)
    examples = [b for b in at.button if b.key and b.key.startswith(f"panel-{key}-example-")]
    assert len(examples) == 3
    page_context = chat(at, f"panel:{key}").page
    assert page_context is not None
    seed = page_context.plan
    for i in range(3):
        at.button(key=f"panel-{key}-example-{i}").click().run()
        assert_no_failure(at)
        answer = chat(at, f"panel:{key}").turns[-1].answer
        assert answer is not None and answer.status == "answered", answer
        assert answer.plan is not None and answer.plan != seed
        state = chat(at, f"panel:{key}")  # each example starts again from the page's plan
        state.turns.clear()
        state.conversation = Conversation()
        at.run()


def test_revenue_panel_why_checks_the_premise_and_draws_the_drivers(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = page(monkeypatch, demo_path, "views/revenue.py")
    at = ask(at, "Why did it drop in March?", key="panel-input-revenue")
    assert_no_failure(at)
    answer = chat(at, "panel:revenue").turns[-1].answer
    assert answer is not None and answer.plan is not None
    # March against February, not a one-point monthly series
    assert answer.plan.grain is None and answer.plan.comparison is not None
    assert answer.headline.startswith("MRR did not drop in March 2025; it rose 6.5% from February")
    shown = [plain(m.value) for m in at.markdown]
    assert any(t.startswith("MRR did not drop in March 2025") for t in shown), "said up front"
    # the drivers as a waterfall in the answer's main view (its first tab), not a one-row table
    assert answer.chart is not None and answer.chart.type == "waterfall"
    assert [s.label for s in answer.bridge[1:5]] == [
        "New MRR", "Expansion MRR", "Contraction MRR", "Churned MRR"
    ]  # fmt: skip
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    waterfalls = [s for s in specs if s.get("encoding", {}).get("y2")]
    assert len(waterfalls) == 1 and waterfalls[0]["mark"]["type"] == "bar"


def kpi_row(assistant: Assistant, metrics: tuple[str, ...]) -> dict[str, Decimal]:
    """The page's KPI figures for this year as of the demo's last day, through the plan path."""
    as_of = date(2025, 12, 31)
    period = parse_time("this year", as_of).range
    plan = QueryPlan(
        metrics=metrics, time=period, currency="usd", comparison=Comparison(kind="previous_period")
    )
    ans = assistant.answer_plan(plan, Request(question="", as_of=as_of, account=ACCOUNT))
    return {c.name: Decimal(str(v)) for c, v in zip(ans.columns, ans.rows[0], strict=True)}


def notes(at: AppTest, start: str) -> list[str]:
    return [plain(c.value) for c in at.caption if plain(c.value).startswith(start)]


def test_payments_page_notes_that_net_volume_is_not_gross_less_refunds_disputes_and_fees(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, assistant: Assistant
) -> None:
    at = page(monkeypatch, demo_path, "views/payments.py")
    k = kpi_row(assistant, ("gross_volume", "net_volume", "refunds_amount", "disputes_amount",
                            "stripe_fees"))  # fmt: skip
    parts = k["gross_volume"] - k["refunds_amount"] - k["disputes_amount"] - k["stripe_fees"]
    assert parts != k["net_volume"], "the demo's figures do not add up"
    (note,) = notes(at, "Gross volume − Refunds − Disputed amount − Stripe fees come to ")
    assert f"come to {money(parts)}, but net volume is {money(k['net_volume'])}" in note
    diff = k["net_volume"] - parts
    assert f"({'+' if diff > 0 else '−'}{money(abs(diff))})" in note
    assert "balance-transaction net" in note and "exchange rate" in note


def test_revenue_page_notes_that_net_new_mrr_is_not_the_mrr_change(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, assistant: Assistant
) -> None:
    at = page(monkeypatch, demo_path, "views/revenue.py")
    k = kpi_row(assistant, ("mrr", "arr", "net_new_mrr", "churned_mrr"))
    diff = k["net_new_mrr"] - k["mrr_change"]
    assert diff != 0, "converted at different rates, the demo's figures do not add up"
    (note,) = notes(at, "The change in MRR comes to ")
    assert f"net new MRR is {money(k['net_new_mrr'])}" in note
    assert f"({'+' if diff > 0 else '−'}{money(abs(diff))})" in note
