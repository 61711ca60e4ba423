"""Every eval case, run through ask() on every pinned warehouse (EVALS.md layer A).

Results come from the session's `eval_runner`, so the offline gate (tests/test_eval_gate.py)
reuses them instead of running the suite a second time.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from evals.cases import Case
from evals.run import Runner
from tests.eval_corpus import CASES

KNOWN = Path(__file__).resolve().parent.parent / "evals" / "known_failures.yaml"
KNOWN_FAILURES: dict[str, str] = (yaml.safe_load(KNOWN.read_text()) or {}) if KNOWN.exists() else {}


@pytest.fixture(scope="module", autouse=True)
def release_warehouses(eval_runner: Runner) -> Iterator[None]:
    """Close the runner's connections after this module; its results stay remembered."""
    yield
    eval_runner.close()


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 200
    assert not set(KNOWN_FAILURES) - {c.name for c in CASES}, "known failure for a missing case"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, eval_runner: Runner) -> None:
    result = eval_runner.result(case)
    if case.expected.outcome == "answer" and not case.expected.empty and "demo" in result.answers:
        assert result.reference_rows["demo"] > 0, "reference result must be non-empty on demo"
    if case.name in KNOWN_FAILURES:
        assert result.status != "pass", f"{case.name} passes now: remove it from known failures"
        pytest.xfail(KNOWN_FAILURES[case.name])
    assert result.status == "pass", f"{result.status} {result.reasons}: {result.detail}"
