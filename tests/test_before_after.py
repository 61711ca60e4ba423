"""Issue 17's before/after table: every question of the YAML gets one row, cells escaped."""

from __future__ import annotations

import yaml

from evals.before_after import QUESTIONS, render


def _answer(q: str, headline: str) -> dict[str, object]:
    return {
        "question": q,
        "status": "answered",
        "headline": headline,
        "read_back": "",
        "columns": ["A", "B"],
        "rows": 2,
    }


def test_every_question_has_one_row_with_both_answers() -> None:
    spec = yaml.safe_load(QUESTIONS.read_text())
    questions = [q for b in spec["bullets"] for g in b["questions"] for q in g]
    before = [_answer(q, "old | pipe") for q in questions]
    after = [_answer(q, "new") for q in questions]
    doc = render(spec, before, after)
    rows = [line for line in doc.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == len(questions) + len(spec["bullets"])  # one header per bullet
    assert all(q in doc for q in questions)
    assert "old \\| pipe" in doc and "(2 rows: A, B)" in doc
    assert doc.count("## ") == len(spec["bullets"])
