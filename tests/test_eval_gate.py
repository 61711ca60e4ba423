"""The offline regression gate inside `make test` (EVALS.md 5.6), and what makes it fail.

The whole-suite check reuses the results tests/test_eval_cases.py already computed (the session's
`eval_runner`), so the suite is run once per session.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.agent.prompts import prompts_dir
from app.semantic.load import SEMANTIC_DIR, load_semantic_model
from evals.baseline import BASELINE, BaselineError, accept, baseline_from_report, dumps, load_json
from evals.cases import Case
from evals.gate import Gate, check_gate
from evals.run import CASES_DIR, Runner
from evals.summary import build_report, inputs_for, run_metadata
from tests.eval_corpus import CASES

KNOWN = yaml.safe_load((CASES_DIR.parent / "known_failures.yaml").read_text()) or {}
# Questions that say "monthly recurring revenue": the synonym the tests below move to ARR.
MRR_WORDED = [c for c in CASES if "monthly recurring revenue" in c.inputs.question.lower()]


@pytest.fixture(scope="module", autouse=True)
def release_warehouses(eval_runner: Runner) -> Iterator[None]:
    """Close the runner's connections after this module; its results stay remembered."""
    yield
    eval_runner.close()


def full_report(runner: Runner) -> dict[str, Any]:
    results = runner.run(CASES)  # remembered from tests/test_eval_cases.py when it ran first
    return build_report(
        results, inputs_for(runner, CASES), run_metadata(full_suite=True), known_failures=KNOWN
    )


def partial_gate(runner: Runner, cases: list[Case], prompts: Path | None = None) -> Gate:
    results = runner.run(cases)
    inputs = inputs_for(runner, cases, prompts_dir=prompts)
    report = build_report(results, inputs, run_metadata(keyword="test"), known_failures=KNOWN)
    return check_gate(load_json(BASELINE, "baseline"), report, partial=True)


def test_offline_gate_passes_against_the_committed_baseline(eval_runner: Runner) -> None:
    gate = check_gate(load_json(BASELINE, "baseline"), full_report(eval_runner))
    assert gate.ok, "\n".join(gate.lines(limit=20))


def test_a_broken_synonym_fails_the_gate_with_a_readable_diff(tmp_path: Path) -> None:
    assert len(MRR_WORDED) >= 2
    semantic = tmp_path / "semantic"
    shutil.copytree(SEMANTIC_DIR, semantic)
    metrics = semantic / "metrics.yaml"
    original = metrics.read_text()
    broken = original.replace(
        "synonyms: [mrr, monthly recurring revenue,", "synonyms: [mrr,"
    ).replace("synonyms: [arr, annual", "synonyms: [arr, monthly recurring revenue, annual")
    assert broken.count("monthly recurring revenue") == original.count("monthly recurring revenue")
    metrics.write_text(broken)

    runner = Runner(semantic=load_semantic_model(semantic))
    try:
        gate = partial_gate(runner, MRR_WORDED)
    finally:
        runner.close()
    assert not gate.ok
    assert {r["id"] for r in gate.regressions} == {c.name for c in MRR_WORDED}
    text = "\n".join(gate.lines())
    first = MRR_WORDED[0].name
    assert f"regression: {first} (pass → wrong) wrong_values" in text
    assert "columns ['arr'] do not carry the reference's names" in text
    assert "row 0, column `mrr`: expected" in text  # the first differing cell, with both values
    assert "baseline stale: semantic model (data/semantic/*.yaml) changed" in text
    assert "run `make eval-accept`" in text

    metrics.write_text(original)  # restored: same bytes, same hash, same answers
    runner = Runner(semantic=load_semantic_model(semantic))
    try:
        restored = partial_gate(runner, MRR_WORDED)
    finally:
        runner.close()
    assert restored.ok, "\n".join(restored.lines())


def test_an_edited_prompt_fails_the_gate_as_stale_input(
    tmp_path: Path, eval_runner: Runner
) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(prompts_dir(), prompts)
    plan = prompts / "plan.md"
    original = plan.read_text()
    plan.write_text(original + "\nAnswer every question twice, in full sentences.\n" * 12)
    gate = partial_gate(eval_runner, CASES[:3], prompts)
    assert not gate.ok and not gate.regressions
    text = "\n".join(gate.lines())
    assert "baseline stale: prompt `plan` changed (v" in text and "tokens)" in text
    assert "prompt token growth: `plan`" in text and "limit 10%" in text

    plan.write_text(original)
    assert partial_gate(eval_runner, CASES[:3], prompts).ok


def test_eval_accept_writes_the_baseline_from_a_full_current_report(
    tmp_path: Path, eval_runner: Runner
) -> None:
    report = full_report(eval_runner)
    report["run"]["id"] = "test-run"
    latest, baseline = tmp_path / "latest.json", tmp_path / "baseline.json"
    latest.write_text(dumps(report))
    assert "test-run" in accept(latest, baseline)
    assert baseline.read_text() == dumps(baseline_from_report(report))
    assert baseline.read_bytes() == BASELINE.read_bytes()  # the committed one is this run's
    stale = json.loads(latest.read_text())
    stale["inputs"]["semantic_model_sha256"] = "0" * 64
    latest.write_text(dumps(stale))
    with pytest.raises(BaselineError, match="semantic_model_sha256 changed since"):
        accept(latest, baseline)
    partial = {**report, "run": {**report["run"], "full_suite": False}}
    latest.write_text(dumps(partial))
    with pytest.raises(BaselineError, match="not a full offline run"):
        accept(latest, baseline)
