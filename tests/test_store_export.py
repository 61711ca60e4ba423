"""Feedback and verified answers exported as eval cases, through the `ledgerlens` subcommands."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from app.cli import main
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.store import AppStore
from evals.cases import CaseFileError, load_case_file, load_cases
from evals.run import Runner

AT = datetime(2025, 7, 16, 8, 0, tzinfo=UTC)
AS_OF = date(2025, 7, 15)
ACCOUNT = "acct_demo_01"
QUESTION = "What was gross volume last quarter?"  # as in evals/cases/payments.yaml


def _record(store: AppStore, assistant: Assistant, *questions: str) -> list[int]:
    """Ask the questions as one conversation; return the recorded turn ids."""
    cid = store.start_conversation("ann", ACCOUNT, at=AT)
    ids = []
    for q in questions:
        conversation = store.load_conversation(cid, user="ann", keep=10)
        request = Request(q, as_of=AS_OF, account=ACCOUNT, conversation=conversation)
        ids.append(store.record_turn(cid, request, assistant.ask(request), at=AT).id)
    return ids


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_thumbs_down_exports_a_draft_that_loads_once_completed(
    tmp_path: Path,
    assistant: Assistant,
    eval_runner: Runner,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = tmp_path / "state.sqlite3"
    store = AppStore(state)
    first, second = _record(store, assistant, "gross volume last month", QUESTION)
    where = ("--state", str(state))
    correction = ("--correction", "should be the whole quarter, not a month")
    code, out, _ = _cli(capsys, "feedback", "give", str(second), "down", *correction, *where)
    assert code == 0 and "Thumbs down" in out
    assert _cli(capsys, "feedback", "give", str(first), "up", *where)[0] == 0
    drafts = tmp_path / "drafts.yaml"
    code, _, err = _cli(capsys, "feedback", "export", "--out", str(drafts), *where)
    assert code == 0 and "1 draft case" in err
    text = drafts.read_text()
    assert "# Correction: should be the whole quarter, not a month" in text
    assert "reference_sql: null  # DRAFT" in text
    with pytest.raises(CaseFileError, match="reference_sql"):
        load_case_file(drafts)  # a draft cannot run until a person completes it

    [case] = yaml.safe_load(text)
    assert case["inputs"] == {
        "question": QUESTION,
        "as_of": "2025-07-15",
        "account": ACCOUNT,
        "history": ["gross volume last month"],
    }
    known = {c.name: c for c in load_cases(Path("evals/cases/payments.yaml"))}
    case["expected"]["reference_sql"] = known[
        "pay_gross_volume_last_quarter"
    ].expected.reference_sql
    case["tags"].remove("draft")
    done = tmp_path / "done.yaml"
    done.write_text(yaml.safe_dump([case], sort_keys=False))
    [loaded] = load_case_file(done)
    assert loaded.expected.compare is not None
    assert list(loaded.expected.compare.columns) == ["gross_volume"]
    assert eval_runner.run_case(loaded).status == "pass"


def test_verified_answers_export_as_cases_that_pass(
    tmp_path: Path,
    demo_path: Path,
    assistant: Assistant,
    eval_runner: Runner,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = tmp_path / "state.sqlite3"
    store = AppStore(state)
    first, follow_up = _record(store, assistant, "gross volume last month", "and by country?")
    where = ("--state", str(state), "--warehouse", str(demo_path))
    for turn in (first, follow_up):
        code, out, _ = _cli(capsys, "verified", "add", str(turn), "--by", "Dana", *where)
        assert code == 0 and "by Dana" in out
    code, out, _ = _cli(capsys, "verified", "list", *where)
    assert code == 0 and out.count("holds") == 2 and "and by country?" in out
    cases_path = tmp_path / "verified.yaml"
    assert _cli(capsys, "verified", "export", "--out", str(cases_path), *where)[0] == 0
    cases = load_case_file(cases_path)
    assert [c.inputs.history for c in cases] == [[], ["gross volume last month"]]
    assert all(c.scorers == ["result_matches", "plan_matches"] for c in cases)
    assert [eval_runner.run_case(c).status for c in cases] == ["pass", "pass"]

    assert _cli(capsys, "verified", "remove", "1", *where)[0] == 0
    code, _, err = _cli(capsys, "verified", "remove", "1", *where)
    assert code == 2 and "No verified answer 1" in err


def test_history_and_share_from_the_command_line(
    tmp_path: Path, demo_path: Path, assistant: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.sqlite3"
    store = AppStore(state)
    [turn] = _record(store, assistant, QUESTION)
    code, out, _ = _cli(capsys, "history", "--user", "ann", "--state", str(state))
    assert code == 0 and QUESTION in out and "1 answer " in out
    conversation = out.split()[0]
    code, out, _ = _cli(capsys, "history", conversation, "--user", "ann", "--state", str(state))
    assert code == 0 and f"[{turn}] {QUESTION}" in out
    token = store.share(turn, user="ann", at=AT)
    code, out, _ = _cli(capsys, "share", token, "--json", "--state", str(state),
                        "--warehouse", str(demo_path))  # fmt: skip
    shown = json.loads(out)
    assert code == 0 and shown["status"] == "answered" and shown["as_of"] == "2025-07-15"
    assert "the result is unchanged" in shown["notices"][0]
    code, _, err = _cli(
        capsys, "share", "nope", "--state", str(state), "--warehouse", str(demo_path)
    )
    assert code == 2 and "mistyped" in err


def test_the_terminal_lists_the_apps_conversations_without_naming_a_user(
    tmp_path: Path, assistant: Assistant, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("LEDGERLENS_LOCAL_USER", "ann")  # the user the app saved them under
    state = tmp_path / "state.sqlite3"
    _record(AppStore(state), assistant, QUESTION)
    code, out, _ = _cli(capsys, "history", "--state", str(state))
    assert code == 0 and QUESTION in out
