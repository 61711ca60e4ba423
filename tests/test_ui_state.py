"""Conversations that last, share links, feedback and verified answers in the app (AppTest).

Each test keeps the app state in its own temporary file; a "reload" is a new AppTest (a new
browser session) on the URL the first one left (`?c=…&account=…`, or a share link).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.store import AppStore
from app.ui import backend
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
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
VERIFIED_Q = "What was MRR by plan last quarter?"
PARAPHRASE = "monthly recurring revenue per plan in the previous quarter"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's app-state file; the app's clock reads AT."""
    monkeypatch.setattr(backend, "now", lambda: AT)
    return tmp_path / "state.sqlite3"


def start(monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path, **kw: object) -> AppTest:
    return open_app(monkeypatch, demo_path, state_path=state, **kw)


def reload(at: AppTest, **params: str) -> AppTest:
    """A new browser session on the URL the app left (plus `params`)."""
    again = AppTest.from_file(str(MAIN), default_timeout=60)
    again.query_params.update(at.query_params)
    again.query_params.update(params)
    return again.run()


def questions(at: AppTest, key: str = "ask") -> list[str]:
    return [t.question for t in chat(at, key).turns]


def record_id(at: AppTest, n: int = -1) -> int:
    rid = chat(at).turns[n].record_id
    assert rid is not None
    return rid


def test_a_reload_shows_the_same_conversation_and_follow_ups_continue_it(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    at = ask(start(monkeypatch, demo_path, state), "MRR by plan last quarter")
    assert_no_failure(at)
    cid = chat(at).conversation_id
    assert cid is not None and at.query_params == {"c": cid, "account": ACCOUNT}
    again = reload(at)
    assert_no_failure(again)
    assert questions(again) == ["MRR by plan last quarter"]
    assert plain(again.metric[0].value) == plain(at.metric[0].value)
    again = ask(again, "what about last year?")
    second = chat(again).turns[-1].answer
    assert second is not None and second.plan is not None
    assert second.plan.dimensions == ("plan",) and second.plan.time is not None
    assert second.plan.time.start == date(2024, 1, 1)  # the restored plan was edited
    assert chat(again).conversation_id == cid
    [saved] = AppStore(state).conversations("local")
    assert (saved.id, saved.turns) == (cid, 2)


def test_a_conversation_of_another_user_is_not_opened_from_the_url(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    at = ask(start(monkeypatch, demo_path, state, local_user="ann"), "gross volume last month")
    monkeypatch.setenv("LEDGERLENS_LOCAL_USER", "bob")
    again = reload(at)
    assert_no_failure(again)
    assert questions(again) == [] and "c" not in again.query_params
    assert any("Local user: **bob**" in plain(c.value) for c in again.sidebar.caption)


def test_switching_account_keeps_each_accounts_conversation(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    at = ask(start(monkeypatch, demo_path, state), "gross volume last month")
    first = chat(at).conversation_id
    at = at.sidebar.selectbox(key="account").set_value("acct_demo_02").run()
    assert_no_failure(at)
    assert questions(at) == []
    assert [plain(t.value) for t in at.toast] == [
        f"Your conversation on {ACCOUNT} is kept under History, in the sidebar."
    ]
    assert "c" not in at.query_params
    at = ask(at, "net volume this year")
    assert at.query_params["account"] == "acct_demo_02"
    at = at.sidebar.selectbox(key="account").set_value(ACCOUNT).run()
    assert questions(at) == ["gross volume last month"] and chat(at).conversation_id == first
    listed = [plain(b.label) for b in at.sidebar.button if (b.key or "").startswith("history-")]
    assert listed == ["net volume this year", "gross volume last month"]


def test_the_history_list_reopens_a_conversation_with_its_account(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    at = start(monkeypatch, demo_path, state)
    at.sidebar.selectbox(key="account").set_value("acct_demo_03").run()
    at = ask(at, "gross volume last month")
    cid = chat(at).conversation_id
    fresh = AppTest.from_file(str(MAIN), default_timeout=60).run()  # no ?c=: a new chat
    assert questions(fresh) == []
    fresh = fresh.sidebar.button(key=f"history-{cid}").click().run()
    assert_no_failure(fresh)
    assert questions(fresh) == ["gross volume last month"]
    assert fresh.sidebar.selectbox(key="account").value == "acct_demo_03"
    assert fresh.query_params == {"c": cid, "account": "acct_demo_03"}
    assert fresh.sidebar.button(key=f"history-{cid}").icon == ":material/arrow_right:"  # shown


def test_the_history_list_opens_the_ask_page_from_a_reporting_page(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    at = ask(start(monkeypatch, demo_path, state), "gross volume last month")
    cid = chat(at).conversation_id
    at = at.switch_page("views/revenue.py").run()
    at = ask(at, "break this down by plan", key="panel-input-revenue")
    assert chat(at, "panel:revenue").turns[-1].record_id is not None  # panel answers are kept
    at = at.sidebar.button(key=f"history-{cid}").click().run()
    assert_no_failure(at)
    assert questions(at) == ["gross volume last month"]
    assert at.chat_input(key="ask-input") is not None


def test_new_conversation_leaves_the_old_one_in_history(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    at = ask(start(monkeypatch, demo_path, state), "gross volume last month")
    cid = chat(at).conversation_id
    at = at.sidebar.button(key="new_conv").click().run()
    assert questions(at) == [] and "c" not in at.query_params
    assert at.sidebar.button(key=f"history-{cid}").icon == ":material/chat:"


def test_a_too_long_question_is_kept_whole_to_shorten_and_ask_again(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    question = "What was gross volume last month? " + "x" * 2966
    at = ask(start(monkeypatch, demo_path, state), question)
    assert_no_failure(at)
    assert any("max_question_chars" in plain(w.value) for w in at.warning)
    rid = record_id(at)
    box = at.text_area(key=f"act-{rid}-long")
    assert box.value == question and "3,000 characters; the limit is 2,000" in plain(box.label)
    again = reload(at)  # the paste survives a reload too
    assert again.text_area(key=f"act-{rid}-long").value == question
    at = box.input("What was gross volume last month?").run()
    at = at.button(key=f"act-{rid}-long-ask").click().run()
    assert_no_failure(at)
    answer = chat(at).turns[-1].answer
    assert answer is not None and answer.status == "answered"


def test_a_share_link_reruns_the_question_with_its_account_date_and_currency(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    at = start(monkeypatch, demo_path, state)
    at.sidebar.selectbox(key="account").set_value("acct_demo_02").run()
    at.sidebar.date_input(key="as_of:acct_demo_02").set_value(date(2025, 6, 30)).run()
    at.sidebar.selectbox(key="currency:acct_demo_02").set_value("usd").run()
    at = ask(at, "gross volume last month")
    shared = chat(at).turns[-1].answer
    at = at.button(key=f"act-{record_id(at)}-share").click().run()
    url = chat(at).turns[-1].share_url
    assert url is not None and url.startswith("/?share=")
    assert url in [c.value for c in at.code]
    token = url.split("=", 1)[1]

    other = AppTest.from_file(str(MAIN), default_timeout=60)
    other.query_params["share"] = token
    other.run()
    assert_no_failure(other)
    assert other.sidebar.selectbox(key="account").value == "acct_demo_02"
    assert other.sidebar.date_input(key="as_of:acct_demo_02").value == date(2025, 6, 30)
    assert other.sidebar.selectbox(key="currency:acct_demo_02").value == "usd"
    [turn] = chat(other).turns
    assert turn.question == "gross volume last month" and turn.answer is not None
    assert shared is not None and turn.answer.rows == shared.rows
    assert turn.answer.currency == "usd" and turn.answer.as_of == date(2025, 6, 30)
    note = "Shared by local on 2026-01-05; rerun on current data, the result is unchanged."
    assert note in [plain(i.value) for i in other.info]
    assert (
        "share" not in other.query_params and other.query_params["c"] == chat(other).conversation_id
    )
    assert questions(reload(other)) == ["gross volume last month"]  # kept as a conversation


def test_a_mistyped_share_link_says_so(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    start(monkeypatch, demo_path, state)
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.query_params["share"] = "nope"
    at.run()
    assert not at.exception
    assert any("the link may be mistyped" in plain(w.value) for w in at.warning)
    assert questions(at) == []


def test_thumbs_down_with_a_correction_is_kept_for_the_eval_drafts(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    at = ask(start(monkeypatch, demo_path, state), "gross volume last month")
    rid = record_id(at)
    at = at.feedback(key=f"act-{rid}-rating").set_value(0).run()
    assert_no_failure(at)
    [down] = AppStore(state).feedback(rating="down")
    assert (down.turn_id, down.user, down.correction) == (rid, "local", "")
    at = at.text_area(key=f"act-{rid}-fix").input("It should exclude test charges").run()
    at = at.button(key=f"act-{rid}-send").click().run()
    [down] = AppStore(state).feedback(rating="down")
    assert down.correction == "It should exclude test charges" and down.plan is not None
    assert "Correction kept with your thumbs down." in [plain(c.value) for c in at.caption]
    assert reload(at).feedback(key=f"act-{rid}-rating").value == 0  # shown again after a reload
    at = at.feedback(key=f"act-{rid}-rating").set_value(1).run()
    assert [f.rating for f in AppStore(state).feedback()] == ["up"]


def test_every_kept_answer_has_feedback_and_only_results_can_be_shared_or_verified(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    at = ask(start(monkeypatch, demo_path, state), "What was our volume last month?")  # clarify
    rid = record_id(at)
    assert [f.key for f in at.feedback] == [f"act-{rid}-rating"]
    keys = {b.key for b in at.button}
    assert f"act-{rid}-share" not in keys and f"act-{rid}-verify" not in keys


def test_a_verified_answer_badges_a_paraphrase_once(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    at = ask(start(monkeypatch, demo_path, state), VERIFIED_Q)
    at = at.button(key=f"act-{record_id(at)}-verify").click().run()
    assert_no_failure(at)
    assert any(plain(c.value).startswith("Verified by local on 2026-01-05") for c in at.caption)
    at = ask(at, PARAPHRASE)
    assert_no_failure(at)
    badge = "Verified by local on 2026-01-05."
    assert [plain(s.value) for s in at.success] == [badge]
    assert badge not in [plain(i.value) for i in at.info]  # not twice
    assert f"act-{record_id(at)}-verify" not in {b.key for b in at.button}  # vouched for already
    other = ask(at, "MRR by product last quarter")
    assert [plain(s.value) for s in other.success] == [badge]  # still only the paraphrase's


def test_a_verification_can_be_withdrawn_after_a_reload(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    at = ask(start(monkeypatch, demo_path, state), VERIFIED_Q)
    rid = record_id(at)
    at = at.button(key=f"act-{rid}-verify").click().run()
    [verified] = AppStore(state).verified_answers()
    assert (verified.turn_id, verified.by, verified.account) == (rid, "local", ACCOUNT)
    again = reload(at)
    button = again.button(key=f"act-{rid}-verify")
    assert button.label == "Withdraw verification"
    again = button.click().run()
    assert AppStore(state).verified_answers() == []
    again = ask(again, PARAPHRASE)
    assert not again.success and again.button(key=f"act-{rid}-verify").label == "Mark verified"


def test_a_stale_verification_shows_a_warning_not_the_badge(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, state: Path
) -> None:
    at = ask(start(monkeypatch, demo_path, state), VERIFIED_Q)
    at = at.button(key=f"act-{record_id(at)}-verify").click().run()
    with sqlite3.connect(state) as conn:  # as if the semantic model had changed since
        conn.execute("UPDATE verified SET model_sha = 'older'")
    at = ask(at, PARAPHRASE)
    assert not at.success
    warning = [plain(w.value) for w in at.warning]
    assert any(
        w.startswith("Not verified: local verified this question on 2026-01-05") for w in warning
    )
    assert not any(plain(i.value).startswith("Not verified") for i in at.info)
    button = at.button(key=f"act-{record_id(at)}-verify")
    assert button.label == "Verify again"
    at = button.click().run()
    assert "older" not in {v.model_sha for v in AppStore(state).verified_answers()}
    at = ask(at, VERIFIED_Q)
    assert [plain(s.value) for s in at.success] == ["Verified by local on 2026-01-05."]


def test_without_a_usable_state_file_answers_still_come_and_the_sidebar_says_so(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "not-sqlite.txt"
    broken.write_text("notes")
    at = ask(open_app(monkeypatch, demo_path, state_path=broken), "gross volume last month")
    assert_no_failure(at)
    assert chat(at).turns[-1].answer is not None and chat(at).turns[-1].record_id is None
    assert not at.feedback and "c" not in at.query_params
    assert any("Conversations are not kept" in t for t in map(plain, texts(at)))
