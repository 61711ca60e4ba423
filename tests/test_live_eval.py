"""The live eval's harness without a model: the fixed sample, `eval --live --sample`, the peer.

The scripted OpenAI server stands in for the local llama.cpp server, so the harness that measures
the real model (`make eval-live MODEL=local`, `benchmarks/bench_llm_peers.py`) is covered by
`make test`: the sample selects and orders cases, the report counts refusals, wrong answers
presented and tokens, and LangChain's SQL agent is scored by the same Runner and scorers.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.cli import main
from benchmarks.bench_llm_peers import done_records, import_report, peer_rows
from benchmarks.langchain_peer import langchain_backend, last_good_query
from evals.cases import load_cases
from evals.run import CASES_DIR, Runner
from evals.sample import SAMPLE, SampleError, draw, load_sample, select_sample
from evals.summary import case_record, summarize
from tests.openai_server import text, tool_call

COUNT_SQL = "SELECT count(*) AS charges_count FROM charges"
COUNT_CASE: dict[str, Any] = {
    "name": "live_charges_count",
    "difficulty": "simple",
    "tags": ["payments"],
    "warehouses": ["demo"],
    "inputs": {
        "question": "How many charges are in the account, of any status, ever?",
        "as_of": "2025-12-31",
        "account": "acct_demo_01",
    },
    "expected": {
        "outcome": "answer",
        "reference_sql": COUNT_SQL,
        "compare": {"columns": {"charges_count": {"kind": "count"}}, "order": "ignore"},
    },
    "scorers": ["result_matches"],
}
REFUSAL_CASE: dict[str, Any] = {
    "name": "live_forecast",
    "difficulty": "simple",
    "tags": ["refusal"],
    "warehouses": ["demo"],
    "inputs": {
        "question": "What will our revenue be in 2031?",
        "as_of": "2025-12-31",
        "account": "acct_demo_01",
    },
    "expected": {"outcome": "refusal", "reason_class": "out_of_scope"},
    "scorers": [],
}


def _files(folder: Path, *names: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    cases = folder / "cases.yaml"
    cases.write_text(yaml.safe_dump([COUNT_CASE, REFUSAL_CASE], sort_keys=False))
    sample = folder / "sample.yaml"
    sample.write_text(yaml.safe_dump({"cases": [{"name": n} for n in names]}))
    return cases, sample


def _step(payload: dict[str, Any], **kw: Any) -> object:
    return text(json.dumps(payload), **kw)


def test_the_committed_sample_is_fixed_stratified_and_names_real_cases() -> None:
    cases = load_cases([CASES_DIR])
    names = load_sample(SAMPLE)
    chosen = select_sample(cases, names)
    raw = yaml.safe_load(SAMPLE.read_text())
    why = Counter(e["why"] for e in raw["cases"])
    assert len(set(names)) == len(names) and [c.name for c in chosen] == names
    assert why["stratified"] >= 60 and why["engine_refused"] > 0
    assert raw["seed"] == 18 and raw["drawn_by"] == "python -m evals.sample"
    strata = {f"{c.source.stem}/{c.difficulty}" for c in chosen if c.source}
    assert {e["stratum"] for e in raw["cases"]} == strata


def test_the_draw_is_seeded_covers_every_stratum_and_keeps_every_refused_case() -> None:
    cases = load_cases([CASES_DIR])
    refused = sorted(c.name for c in cases[::17])
    verdicts = dict.fromkeys(refused, "missed")
    first, again = draw(cases, verdicts, 60, 5), draw(cases, verdicts, 60, 5)
    assert first == again and first != draw(cases, verdicts, 60, 6)
    drawn = [e for e in first if e["why"] == "stratified"]
    every = {f"{c.source.stem}/{c.difficulty}" for c in cases if c.name not in refused}
    assert len(drawn) == 60 and {e["stratum"] for e in drawn} == every
    assert sorted(e["name"] for e in first if e["why"] == "engine_refused") == refused
    with pytest.raises(SampleError, match="do not exist"):
        select_sample(cases, ["no_such_case"])


def test_eval_live_on_a_sample_counts_refusals_wrong_answers_and_tokens(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    openai_server: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cases, sample = _files(tmp_path / "c", "live_forecast", "live_charges_count")
    monkeypatch.setenv("LEDGERLENS_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("LEDGERLENS_LLM_MODEL", "qwen2.5-coder-1.5b-instruct")
    monkeypatch.setenv("LEDGERLENS_LLM_EXPLAIN", "false")
    monkeypatch.setenv("LEDGERLENS_LLM_MAX_RETRIES", "0")
    openai_server.enqueue(
        _step({"action": "cannot_answer", "reason": "No forecasts."}, usage=(900, 10), cached=0),
        _step({"action": "sql", "sql": COUNT_SQL}, usage=(1000, 20), cached=700),
    )
    out = tmp_path / "live.json"
    args = ["eval", str(cases), "--live", "--backend", "agent", "--sample", str(sample)]
    assert main([*args, "--on", "demo", "--limit", "2", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [c["id"] for c in report["cases"]] == ["live_forecast", "live_charges_count"]
    s = report["summary"]
    assert s["refused"] == 1 and s["cases"] == 2
    assert s["prompt_tokens_per_question"] == 950 and s["cached_tokens_per_question"] == 350
    assert [(c["status"], c["answer_status"]) for c in report["cases"]] == [
        ("pass", "refused"),
        ("pass", "answered"),
    ]
    assert s["presented_wrong"] == 0 and s["execution_accuracy"] == 1.0
    assert report["run"]["sample"] and report["run"]["only"] == "demo"
    assert report["prompts_used"] and all(
        len(h) == 64 for hs in report["prompts_used"].values() for h in hs
    )
    printed = capsys.readouterr().out
    assert "prompt tokens per question 950, cached 350" in printed and "prompts used:" in printed
    log = tmp_path / "peers.jsonl"  # the peer benchmark can start from this report
    assert import_report(out, log) == 2 and import_report(out, log) == 0
    assert {r["peer"] for r in done_records(log)} == {"agent"}
    assert main([*args, "--limit", "1", "-k", "nothing_matches"]) == 2


def test_langchain_peer_is_scored_by_the_same_runner_on_its_tenant_mirror(
    tmp_path: Path, openai_server: Any, server_settings: Any
) -> None:
    cases_file, _ = _files(tmp_path / "c")
    case = next(c for c in load_cases([cases_file]) if c.name == "live_charges_count")
    openai_server.enqueue(
        tool_call("sql_db_list_tables", {"tool_input": ""}),
        tool_call("sql_db_query", {"query": "SELECT count(*) AS n FROM charges"}),
        text("There are that many charges.", usage=(1200, 8), cached=1100),
    )
    settings = server_settings()
    runner = Runner(settings, backend=langchain_backend(settings, tmp_path / "m"), only="demo")
    try:
        result = runner.run_case(case)
    finally:
        runner.close()
    assert result.status == "pass", result.detail
    answer = result.answer
    assert answer is not None and answer.backend.startswith("langchain:")
    assert answer.llm is not None and answer.llm.calls == 3 and answer.llm.cached_tokens == 1100
    system = openai_server.bodies[0]["messages"][0]["content"]
    assert "sqlite" in system and "2025-12-31" in system
    assert {t["function"]["name"] for t in openai_server.bodies[0]["tools"]} >= {"sql_db_query"}
    mirror = next((tmp_path / "m").glob("peer-*-acct_demo_01-*.sqlite"))
    import sqlite3

    with sqlite3.connect(mirror) as db:  # tenant-scoped by its data: one account's rows only
        assert db.execute("SELECT DISTINCT merchant_id FROM charges").fetchall() == [
            ("acct_demo_01",)
        ]


def test_the_peer_refuses_when_no_query_ran_and_the_table_compares_common_cases(
    tmp_path: Path, openai_server: Any, server_settings: Any
) -> None:
    cases_file, _ = _files(tmp_path / "c")
    case = next(c for c in load_cases([cases_file]) if c.name == "live_charges_count")
    openai_server.enqueue(text('{"name": "sql_db_query", "arguments": {"query": "SELECT 1"}}'))
    settings = server_settings()
    runner = Runner(settings, backend=langchain_backend(settings, tmp_path / "m"), only="demo")
    try:
        result = runner.run_case(case)
    finally:
        runner.close()
    assert result.status == "missed" and result.answer and result.answer.status == "refused"
    peer = case_record(result, "langchain", {}) | {"peer": "langchain"}
    ours = peer | {"peer": "agent", "status": "pass", "answer_status": "answered"}
    extra = ours | {"id": "only_ours"}
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(json.dumps(r) for r in (peer, ours, extra)) + "\n{torn")
    records = done_records(log)
    assert len(records) == 3
    rows = peer_rows(records, ["agent", "langchain"])
    assert [r[1] for r in rows] == ["1", "1"]  # only the case both finished
    assert rows[0][2] == "100.0% (1/1)" and rows[1][2] == "0.0% (0/1)" and rows[1][4] == "1"
    assert summarize([peer])["refused"] == 1 and summarize([peer])["presented_wrong"] == 0
    assert summarize([ours | {"status": "wrong"}])["presented_wrong"] == 1
    messages = [
        type(
            "M", (), {"tool_calls": [{"id": "a", "name": "sql_db_query", "args": {"query": "Q"}}]}
        ),
        type("T", (), {"tool_call_id": "a", "content": "Error: no such table"}),
    ]
    assert last_good_query(messages) is None
