"""`ledgerlens eval`: private case files, malformed cases, flags, reports and baseline bytes."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.cli import main
from app.core.settings import Settings
from evals.backends import LIVE_REFUSAL, BackendUnavailable, make_backend
from evals.cases import Case
from evals.gate import check_gate
from evals.report import render_html, render_markdown
from evals.run import CASES_DIR, Runner
from evals.select import KeywordError, parse_keyword
from tests.openai_server import OpenAIServer, structured

LLM_VARIABLES = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "LEDGERLENS_LLM_API_KEY",
    "LEDGERLENS_LLM_BASE_URL",
    "LEDGERLENS_LLM_MODEL",
)


def _borrowed_answer_case() -> dict[str, Any]:
    """An answer case of the repository, renamed: its reference SQL is known to be right."""
    raw = yaml.safe_load((CASES_DIR / "payments.yaml").read_text())
    case = next(c for c in raw["cases"] if c["name"] == "pay_gross_volume_last_quarter")
    return {**case, "name": "private_gross_volume_last_quarter", "warehouses": ["demo"]}


REFUSAL = {
    "name": "private_other_tenant",
    "difficulty": "simple",
    "tags": ["refusal"],
    "inputs": {
        "question": "show me acct_demo_02 gross volume",
        "as_of": "2025-07-15",
        "account": "acct_demo_01",
    },
    "expected": {"outcome": "refusal", "reason_class": "other_tenant"},
}
MALFORMED = {
    "name": "private_malformed",
    "difficulty": "hard",  # not simple | moderate | challenging
    "inputs": {"question": "MRR?", "as_of": "2025-07-15", "account": "acct_demo_01"},
    "expected": {"outcome": "refusal", "reason_class": "other_tenant"},
}


def write_cases(directory: Path, *cases: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "cases.yaml"
    path.write_text(yaml.safe_dump(list(cases), sort_keys=False))
    return path


def test_private_case_file_with_a_malformed_case(
    tmp_path: Path, demo_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "other", _borrowed_answer_case(), MALFORMED, REFUSAL)
    out = tmp_path / "out.json"
    code = main(["eval", str(cases), "--warehouse", str(demo_path), "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 1  # one case could not run, and no baseline applies to private files
    assert "invalid case:" in err and str(cases) in err
    assert "case #2 (private_malformed)" in err and "field `difficulty`" in err
    report = json.loads(out.read_text())
    status = {c["id"]: (c["status"], c["reasons"]) for c in report["cases"]}
    assert status == {
        "private_gross_volume_last_quarter": ("pass", []),
        "private_other_tenant": ("pass", []),
        "private_malformed": ("error", ["invalid_case"]),
    }
    summary = report["summary"]
    assert (summary["cases"], summary["pass"], summary["error"]) == (3, 2, 1)
    assert summary["execution_accuracy"] == 1.0 and summary["answerable"] == 1
    assert report["gate"] is None and report["run"]["warehouse"].endswith(demo_path.name)
    assert list(report["inputs"]["warehouses"]) == [demo_path.stem]
    answered = next(c for c in report["cases"] if c["expect"] == "answer")
    assert set(answered) >= {"id", "status", "reasons", "expect", "latency_ms", "sql", "tokens"}
    assert answered["sql"].startswith(("SELECT", "WITH")) and answered["latency_ms"] > 0


def test_baseline_is_byte_stable_and_gates_a_private_suite(
    tmp_path: Path, demo_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "mine", _borrowed_answer_case(), REFUSAL)
    first, second = tmp_path / "b1.json", tmp_path / "b2.json"
    for baseline in (first, second):
        args = ["eval", str(cases), "--warehouse", str(demo_path), "--baseline", str(baseline)]
        assert main([*args, "--update-baseline", "--jobs", "2"]) == 0
    assert first.read_bytes() == second.read_bytes()
    text = first.read_text()
    assert "latency" not in text and "started" not in text and text.endswith("}\n")
    assert main(["eval", str(cases), "--warehouse", str(demo_path), "--baseline", str(first)]) == 0
    assert "gate passed" in capsys.readouterr().out


def test_keyword_selection_and_usage_errors(
    tmp_path: Path, demo_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "k", _borrowed_answer_case(), REFUSAL)
    out = tmp_path / "k.json"
    base = ["eval", str(cases), "--warehouse", str(demo_path)]
    assert main([*base, "-k", "refusal and not gross", "--json", str(out)]) == 0
    assert [c["id"] for c in json.loads(out.read_text())["cases"]] == ["private_other_tenant"]
    assert main([*base, "-k", "no_such_case"]) == 2
    assert main([*base, "-k", "(tax or fx"]) == 2
    assert main(["eval", "-k", "tax", "--update-baseline"]) == 2
    assert main(["eval", str(tmp_path / "missing.yaml")]) == 2
    assert main([*base[:2], "--warehouse", str(tmp_path / "none.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "No cases match -k 'no_such_case'" in err and "missing ')'" in err
    assert "--update-baseline needs every case" in err and "No such case file" in err
    assert "Traceback" not in err


def test_keyword_expressions() -> None:
    hay = ["tax_collected_de_2025", "tax", "fx", "moderate", "tax"]
    assert parse_keyword("tax")(hay) and parse_keyword("TAX and fx")(hay)
    assert not parse_keyword("tax and not fx")(hay)
    assert parse_keyword("mrr or (de_2025 and not refusal)")(hay)
    assert not parse_keyword("not (tax or mrr)")(hay)
    for bad in ("", "and tax", "tax or", "(tax", "tax )"):
        with pytest.raises(KeywordError):
            parse_keyword(bad)


def test_live_refuses_without_a_model(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LEDGERLENS_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("LEDGERLENS_LLM_BASE_URL", raising=False)
    assert main(["eval", "--live", "--repeat", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"eval: {LIVE_REFUSAL}" and err.count(". ") == 0
    assert "OPENAI_API_KEY" in err and "OPENAI_BASE_URL" in err


def test_backend_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(llm_base_url="http://127.0.0.1:9/v1")
    with pytest.raises(BackendUnavailable, match="add --live"):
        make_backend("agent", settings, record=True)
    with pytest.raises(BackendUnavailable, match="use --backend agent or auto"):
        make_backend("engine", settings, live=True)
    monkeypatch.setitem(sys.modules, "evals.replay", None)  # as if the replay module were absent
    with pytest.raises(BackendUnavailable, match=r"evals/replay\.py"):
        make_backend("agent", settings)


def test_reports_escape_every_value(tmp_path: Path, demo_path: Path) -> None:
    cases = write_cases(tmp_path / "esc", _borrowed_answer_case(), REFUSAL)
    out = tmp_path / "esc.json"
    assert main(["eval", str(cases), "--warehouse", str(demo_path), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    hostile = "<script>alert('x')</script> | `rm` & <b>"
    report["cases"][0].update(detail=hostile, sql=hostile, status="wrong", reasons=["wrong_values"])
    report["run"]["keyword"] = hostile
    page = render_html(report)
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    markdown = render_markdown(report)
    assert "\\<script\\>" in markdown and "\\| \\`rm\\`" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| `private_gross"))
    assert row.count(" | ") == 7  # the hostile `|` did not add table cells


def test_gate_rules_on_synthetic_reports() -> None:
    def report(**statuses: str) -> dict[str, Any]:
        cases = [
            {"id": k, "status": v, "reasons": [], "detail": "", "expect": "answer"}
            for k, v in statuses.items()
        ]
        if cases:
            cases[-1]["known_failure"] = "listed"
        inputs = {
            "prompts": {"plan": {"version": 2, "sha256": "b" * 64, "tokens": 120}},
            "tool_schemas_sha256": "t",
            "semantic_model_sha256": "s",
            "cases_sha256": {"evals/cases/x.yaml": "c"},
            "warehouses": {"demo": {"sha256": "w"}},
        }
        return {"run": {"mode": "offline", "backend": "engine"}, "inputs": inputs, "cases": cases}

    baseline = {
        "mode": "offline",
        "inputs": {
            **report()["inputs"],
            "prompts": {"plan": {"version": 1, "sha256": "a" * 64, "tokens": 100}},
        },
        "cases": {
            "a": {"status": "pass"},
            "b": {"status": "pass"},
            "gone": {"status": "pass"},
            "k": {"status": "wrong"},
        },
    }
    gate = check_gate(baseline, report(a="pass", b="wrong", c="hallucinated", k="pass"))
    assert not gate.ok
    assert [r["id"] for r in gate.regressions] == ["b"]
    assert [h["id"] for h in gate.hallucinated] == ["c"] and gate.new_cases == ["c"]
    assert gate.removed_cases == ["gone"]
    assert gate.improvements == [{"id": "k", "was": "wrong", "now": "pass", "known_failure": True}]
    assert gate.stale == [
        "prompt `plan` changed (v1 → v2, sha aaaaaaaa → bbbbbbbb, 100 → 120 tokens)"
    ]
    assert gate.token_growth == ["`plan` 100 → 120 tokens (+20.0%, limit 10%)"]
    lines = "\n".join(gate.lines())
    assert "regression: b (pass → wrong)" in lines and "improvements (never fail): k" in lines
    partial = check_gate(baseline, report(a="pass", k="pass"), partial=True)
    assert partial.removed_cases == [] and partial.regressions == []
    assert check_gate(None, report(a="pass")).problems[0].startswith("no baseline")


def test_agent_backend_records_live_then_replays_offline(
    tmp_path: Path, demo_path: Path, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in LLM_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    cassettes = tmp_path / "cassettes"
    # Scored by result only: the agent's plan states fewer assumptions than the engine's.
    case = Case.model_validate({**_borrowed_answer_case(), "scorers": ["result_matches"]})
    plan = {
        "metrics": ["gross_volume"],
        "time": {"start": "2025-04-01", "end": "2025-07-01", "label": "last quarter"},
    }
    openai_server.enqueue(structured({"action": "plan", "plan": plan, "reason": ""}))
    live = Settings(  # native tool calls: the scripted server is on 127.0.0.1, which means json
        llm_base_url=openai_server.base_url,
        llm_api_key="sk-test-SECRET123",
        llm_explain=False,
        llm_tool_mode="native",
    )
    recorder = make_backend(
        "agent", live, live=True, record=True, recorded_on=date(2026, 1, 5), cassette_dir=cassettes
    )
    runner = Runner(live, backend=recorder, warehouse=demo_path)
    try:
        recorded = runner.run_case(case)
    finally:
        runner.close()
    assert (recorded.status, recorded.detail) == ("pass", "")
    assert recorded.answer is not None and recorded.answer.backend.startswith("llm:")
    (cassette,) = cassettes.glob("*.json")
    assert "SECRET123" not in cassette.read_text()

    offline = Settings(llm_explain=False)  # no key, no URL: replay never needs the network
    runner = Runner(
        offline, backend=make_backend("agent", offline, cassette_dir=cassettes), warehouse=demo_path
    )
    try:
        replayed = runner.run_case(case)
        unrecorded = {**case.model_dump(mode="json"), "name": "private_unrecorded"}
        unrecorded["inputs"] = {**unrecorded["inputs"], "question": "Net volume last quarter?"}
        stale = runner.run_case(Case.model_validate(unrecorded))  # never recorded
    finally:
        runner.close()
    assert replayed.status == "pass" and replayed.answer is not None
    assert replayed.answer.rows == recorded.answer.rows
    assert replayed.answer.llm is not None
    assert replayed.answer.llm.replayed == f"replayed from {live.llm_model} recorded 2026-01-05"
    assert (stale.status, stale.reasons) == ("error", ["stale_cassette"])
    assert "record again" in stale.detail
    assert len(openai_server.requests) == 1  # only the recording run reached the server
