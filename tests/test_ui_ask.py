"""The Ask page in Streamlit's AppTest: answers, follow-ups, refusals, clarifications, errors."""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from app.core.answer import Answer, ChartSpec, Column, Definition, Step
from app.core.errors import QueryTimeout, WarehouseMissing
from app.core.plan import QueryPlan
from app.ui import backend
from app.ui.text import escape_md
from tests.ui_reference import GROSS_VOLUME, money, total
from tests.ui_support import (
    MAIN,
    ask,
    assert_no_failure,
    chat,
    open_app,
    plain,
    release_app_caches,  # noqa: F401 (autouse fixture)
    texts,
)

ACCOUNT = "acct_demo_01"


def gross_volume_november(demo_path: Path) -> str:
    value = total(
        demo_path, GROSS_VOLUME, account=ACCOUNT, start=date(2025, 11, 1), end=date(2025, 12, 1)
    )
    return money(value)


def test_sidebar_defaults_to_the_accounts_latest_data(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = open_app(monkeypatch, demo_path)
    assert_no_failure(at)
    assert at.sidebar.selectbox(key="account").options == [
        "Northwind Analytics Inc. (acct_demo_01)",
        "Brightcell GmbH (acct_demo_02)",
        "Tealbook Ltd (acct_demo_03)",
    ]
    assert at.sidebar.date_input(key=f"as_of:{ACCOUNT}").value == date(2025, 12, 31)
    assert at.sidebar.selectbox(key=f"currency:{ACCOUNT}").value == "usd"
    assert any("Engine only" in plain(c.value) for c in at.sidebar.caption)
    at.sidebar.selectbox(key="account").set_value("acct_demo_02").run()
    assert at.sidebar.selectbox(key="currency:acct_demo_02").value == "eur"


def test_sidebar_names_the_configured_llm(monkeypatch: pytest.MonkeyPatch, demo_path: Path) -> None:
    at = open_app(
        monkeypatch, demo_path, llm_base_url="http://127.0.0.1:9/v1", llm_model="local-model"
    )
    assert_no_failure(at)
    status = [plain(c.value) for c in at.sidebar.caption if "Backend" in plain(c.value)]
    assert len(status) == 1 and "local-model" in status[0]


def test_account_query_parameter_picks_the_first_account(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    monkeypatch.setenv("LEDGERLENS_WAREHOUSE_PATH", str(demo_path))
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.query_params["account"] = "acct_demo_03"
    at.run()
    assert_no_failure(at)
    assert at.sidebar.selectbox(key="account").value == "acct_demo_03"
    assert at.sidebar.selectbox(key="currency:acct_demo_03").value == "gbp"


def test_question_is_answered_with_the_number_sql_computes(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "What was gross volume last month?")
    assert_no_failure(at)
    assert plain(at.metric[0].value) == gross_volume_november(demo_path)
    assert "Gross volume" in plain(at.metric[0].label)
    assert any(e.label == "SQL" for e in at.expander)
    assert any(e.label == "Definitions and assumptions" for e in at.expander)
    assert any("Semantic engine" in plain(c.value) for c in at.caption)
    suggestions = [b.label for b in at.button if b.key and b.key.startswith("ask-0-ask-")]
    assert 2 <= len(suggestions) <= 3
    turns = chat(at).turns
    assert len(turns) == 1 and turns[0].answer is not None
    assert turns[0].answer.status == "answered"


def test_time_series_answer_has_a_chart_and_a_currency_table(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "MRR by month this year")
    assert_no_failure(at)
    assert [t.label for t in at.tabs] == ["Chart", "Table (12 rows)"]
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["period", "mrr"] and len(frame) == 12
    assert plain(at.metric[0].label) == "MRR · December 2025 (latest)"
    assert plain(at.metric[0].value) == "$49,169.03"


def test_follow_up_button_edits_the_previous_question(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "What was gross volume last month?")
    button = next(b for b in at.button if b.label == "Break this down by country")
    at = button.click().run()
    assert_no_failure(at)
    turns = chat(at).turns
    assert [t.question for t in turns] == [
        "What was gross volume last month?",
        "Break this down by country",
    ]
    plan = turns[1].answer.plan if turns[1].answer else None
    assert plan is not None
    assert plan.metrics == ("gross_volume",) and plan.dimensions == ("customer_country",)
    assert plan.time is not None and plan.time.start == date(2025, 11, 1)
    assert "customer_country" in at.dataframe[0].value.columns


def test_typed_follow_up_changes_only_the_period(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "MRR by plan last quarter")
    at = ask(at, "what about last year?")
    assert_no_failure(at)
    first, second = (t.answer for t in chat(at).turns)
    assert first is not None and second is not None and second.plan is not None
    assert second.plan.dimensions == ("plan",) and second.plan.metrics == ("mrr",)
    assert second.plan.time is not None and second.plan.time.start == date(2024, 1, 1)


def test_the_chat_reads_the_question_back_and_names_ignored_words(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "gross volume for the whole of last month")
    assert_no_failure(at)
    captions = [plain(c.value) for c in at.caption]
    assert any(c.startswith("Read as: Gross volume · last month (2025-11-01") for c in captions)
    assert "Ignored: 'whole'" in captions


def test_a_typo_is_asked_about_and_the_corrected_question_answers(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "MRR by plna last quater")
    assert_no_failure(at)
    assert chat(at).turns[0].answer is not None
    assert chat(at).turns[0].answer.status == "clarify"
    choices = [b for b in at.button if b.key and b.key.startswith("ask-0-ask-")]
    assert plain(choices[0].label) == "MRR by plan last quarter"
    at = choices[0].click().run()
    assert_no_failure(at)
    answer = chat(at).turns[-1].answer
    assert answer is not None and answer.plan is not None
    assert answer.plan.dimensions == ("plan",)


def test_refusal_shows_the_reason_and_suggestions_that_answer(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "show me acct_demo_02 gross volume")
    assert not at.exception
    assert "only see data of your own account" in plain(at.warning[0].value)
    suggestions = [b for b in at.button if b.key and b.key.startswith("ask-0-ask-")]
    assert len(suggestions) == 3
    at = suggestions[0].click().run()
    assert_no_failure(at)
    assert chat(at).turns[-1].answer is not None
    assert chat(at).turns[-1].answer.status == "answered"


def test_clarification_offers_choices_as_buttons(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "What was our volume last month?")
    assert_no_failure(at)
    assert chat(at).turns[0].answer is not None
    assert chat(at).turns[0].answer.status == "clarify"
    choices = {plain(b.label): b for b in at.button if b.key and b.key.startswith("ask-0-ask-")}
    assert set(choices) == {"Gross volume", "Net volume"}
    at = choices["Net volume"].click().run()
    assert_no_failure(at)
    answer = chat(at).turns[-1].answer
    assert answer is not None and answer.plan is not None
    assert answer.plan.metrics == ("net_volume",)


def test_pasted_sql_outside_the_allow_list_is_rejected_in_one_line(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "SELECT * FROM read_csv('/etc/passwd')")
    assert not at.exception
    assert len(at.error) == 1
    assert plain(at.error[0].value).startswith("That query was not run")
    assert "\n" not in at.error[0].value


def test_truncated_results_say_so(monkeypatch: pytest.MonkeyPatch, demo_path: Path) -> None:
    at = ask(open_app(monkeypatch, demo_path, max_rows=5), "MRR by plan by month this year")
    assert_no_failure(at)
    assert plain(at.warning[0].value) == (
        "Showing 5 rows; the result has more (the max_rows setting is 5)."
    )
    assert len(at.dataframe[0].value) == 5


def test_reporting_currency_from_the_sidebar(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = open_app(monkeypatch, demo_path)
    at.sidebar.selectbox(key=f"currency:{ACCOUNT}").set_value("eur").run()
    at = ask(at, "MRR at the end of June")
    assert_no_failure(at)
    answer = chat(at).turns[-1].answer
    assert answer is not None and answer.currency == "eur"
    assert plain(at.metric[0].value).startswith("€")
    assert chat(at).conversation.previous == answer.plan


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (QueryTimeout("interrupted"), "took longer than 5000 ms"),
        (TimeoutError(), "took longer than 5000 ms"),
        (WarehouseMissing("No warehouse at x.duckdb."), "make warehouse"),
        (RuntimeError("boom"), "something went wrong on our side"),
    ],
)
def test_errors_show_one_line_and_keep_the_conversation(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, error: BaseException, message: str
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "What was gross volume last month?")
    real = backend.answer

    def broken(*args: Any, **kwargs: Any) -> Answer:
        raise error

    monkeypatch.setattr(backend, "answer", broken)
    at = ask(at, "and by country?")
    assert not at.exception
    assert len(at.error) == 1 and message in plain(at.error[0].value)
    assert "\n" not in at.error[0].value
    assert plain(at.metric[0].value) == gross_volume_november(demo_path)  # history kept
    monkeypatch.setattr(backend, "answer", real)
    at = ask(at, "and by country?")
    assert [t.question for t in chat(at).turns][-1] == "and by country?"
    assert chat(at).turns[-1].answer is not None
    assert chat(at).turns[-1].answer.plan is not None
    assert chat(at).turns[-1].answer.plan.dimensions == ("customer_country",)


def test_a_timed_out_query_answer_is_one_line_and_the_chat_goes_on(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "What was gross volume last month?")
    real = backend.answer
    slow = (
        "The query ran longer than 5000 ms and was stopped; the time limit is\n"
        "controlled by the `query_timeout_ms` setting."
    )

    def timed_out(question: str, **kwargs: Any) -> Answer:
        return Answer(
            status="error", question=question, headline="The query could not finish.", error=slow
        )

    monkeypatch.setattr(backend, "answer", timed_out)
    at = ask(at, "MRR by plan by day this year")
    assert not at.exception and len(at.error) == 1
    assert plain(at.error[0].value) == (
        "The query could not finish. The query ran longer than 5000 ms and was stopped; the time "
        "limit is controlled by the `query_timeout_ms` setting."
    )
    monkeypatch.setattr(backend, "answer", real)
    at = ask(at, "what about last year?")
    assert not at.exception and len(at.error) == 1  # the failed turn stays in the history
    assert len(chat(at).turns) == 3 and len(at.metric) == 2


def test_llm_unavailable_notice_is_shown(monkeypatch: pytest.MonkeyPatch, demo_path: Path) -> None:
    at = open_app(monkeypatch, demo_path)
    real = backend.answer
    notice = "The AI assistant is unavailable right now (timeout); here is what I can answer."

    def with_notice(*args: Any, **kwargs: Any) -> Answer:
        ans = real(*args, **kwargs)
        return ans.model_copy(update={"notices": [notice]})

    monkeypatch.setattr(backend, "answer", with_notice)
    at = ask(at, "What was gross volume last month?")
    assert_no_failure(at)
    assert [plain(i.value) for i in at.info] == [notice]


def test_agent_steps_stream_into_the_status_box_and_stay_in_the_history(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = open_app(monkeypatch, demo_path)
    real = backend.answer
    steps = [
        Step(kind="model", text="Planning with the semantic model…"),
        Step(kind="tool_result", text="**Gross volume** [x](http://127.0.0.1:9)", sql="SELECT 1"),
    ]

    def agent(*args: Any, on_step: Any = None, **kwargs: Any) -> Answer:
        for step in steps:
            on_step(step)
        ans = real(*args, **kwargs)
        return ans.model_copy(update={"backend": "llm:gpt-4.1-mini"})

    monkeypatch.setattr(backend, "llm_enabled", lambda: True)
    monkeypatch.setattr(backend, "answer", agent)
    at = ask(at, "What was gross volume last month?")
    assert_no_failure(at)
    assert at.status[0].label.startswith("Done in")
    assert at.status[0].state == "complete"
    shown = [m.value for m in at.status[0].markdown]
    assert shown == [escape_md(s.text) for s in steps]
    assert any("llm:gpt-4.1-mini" in plain(c.value) for c in at.caption)
    at.run()  # on the next run the steps are part of the turn
    assert at.expander[0].label == "Agent steps (2)"


EVIL = (
    "![x](http://127.0.0.1:9/p.png) <img src=x onerror=alert(1)> **Acme** "
    "[click](javascript:alert(1)) :red[Corp] $x^2$"
)


def test_markdown_and_html_in_data_are_rendered_as_text(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = open_app(monkeypatch, demo_path)

    def injected(question: str, **kwargs: Any) -> Answer:
        return Answer(
            status="answered",
            question=question,
            headline=f"{EVIL}: $1.00",
            value=Decimal("1.00"),
            columns=[
                Column(name="customer", kind="label", label="Customer"),
                Column(name="net_revenue", kind="money", currency="usd", label="Net revenue"),
            ],
            rows=[[EVIL, Decimal("1.00")], ["Plain Co", Decimal("0.50")]],
            chart=ChartSpec(type="bar", x="customer", y=["net_revenue"]),
            plan=QueryPlan(metrics=("net_revenue",), dimensions=("customer",)),
            definitions=[Definition(metric="net_revenue", label="Net revenue", definition=EVIL)],
            explanation=f"{EVIL} leads.",
            sql="SELECT 1",
            notices=[EVIL],
        )

    monkeypatch.setattr(backend, "answer", injected)
    at = ask(at, EVIL)
    assert_no_failure(at)
    shown = texts(at)
    safe = escape_md(EVIL)
    from_data = [t for t in shown if "Acme" in t]
    assert len(from_data) >= 5  # question, headline, explanation, notice, definition
    # Every place the data shows up holds it whole and escaped: nothing of it renders as markup.
    assert [t for t in from_data if "Acme" in t.replace(safe, "")] == []
    assert at.dataframe[0].value["customer"][0] == EVIL  # the grid draws cells as plain text


def test_rate_limit_answers_with_a_message(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = open_app(monkeypatch, demo_path, ui_rate_limit_per_minute=2)
    for q in ("gross volume last month", "and by country?", "what about last year?"):
        at = ask(at, q)
    assert not at.exception
    assert len(at.error) == 1
    assert "ui_rate_limit_per_minute" in plain(at.error[0].value)
    assert [t.answer is not None for t in chat(at).turns] == [True, True, False]


def test_new_conversation_clears_the_history(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "gross volume last month")
    assert chat(at).turns
    at = at.sidebar.button(key="new_conv").click().run()
    assert not chat(at).turns and chat(at).conversation.previous is None
    assert not at.metric


def test_missing_warehouse_says_how_to_build_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = open_app(monkeypatch, tmp_path / "nowhere.duckdb")
    assert not at.exception
    assert "No warehouse at" in plain(at.error[0].value)
    assert at.code[0].value == "make warehouse"


def test_a_too_long_paste_is_answered_with_the_limit_not_dropped(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = open_app(monkeypatch, demo_path)
    assert at.chat_input(key="ask-input").proto.max_chars == 0  # the browser must not cut it
    question = "What was gross volume last month? " + "x" * 2966
    at = ask(at, question)
    assert_no_failure(at)
    turn = chat(at).turns[-1]
    assert turn.question == question  # kept whole in the conversation
    assert turn.answer is not None and turn.answer.status == "refused"
    assert "`max_question_chars`" in (turn.answer.headline or "")
    shown = plain(" ".join(texts(at)))
    assert "(2,400 more characters)" in shown and "max_question_chars" in shown


def test_a_breakdown_headlines_its_total_and_its_table_ends_with_it(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path
) -> None:
    at = ask(open_app(monkeypatch, demo_path), "Gross volume by card brand last month")
    assert_no_failure(at)
    turn = chat(at).turns[0]
    assert turn.answer is not None and turn.answer.total is not None
    total = turn.answer.total[[c.name for c in turn.answer.columns].index("gross_volume")]
    assert plain(at.metric[0].label) == "Gross volume · last month · total"
    assert plain(at.metric[0].value) == f"${total:,.2f}"
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["card_brand", "gross_volume", "share"]
    assert frame["gross_volume"].iloc[-1] == pytest.approx(float(total))
    assert frame["share"].iloc[-1] == 1 and len(frame) == len(turn.answer.rows) + 1
