"""The rule table of app.understand.time: gates are necessary conditions, rules compile lazily."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.understand.time import parse_time
from app.understand.time.patterns import word_set
from app.understand.time.rules import Rule, rules
from tests.test_timeparse import ROWS

GATED = [r for r in rules() if r.gate]
# Phrases that reach each gated rule (list head, point, period end, range, n-to, week of, since,
# the blocks, relative periods, now, last n, grains, the anaphor), next to the table's phrases.
PHRASES = [
    "Q1 and Q2 2024",
    "January, February & March 2024",
    "as of the end of March 2025",
    "at the close of Q2",
    "end of the fiscal quarter",
    "year-end balance",
    "EOM of June 2025",
    "from January to March 2025",
    "Jan–Apr 2025",
    "between Q1 and Q3 2024",
    "the 3 months to June 2025",
    "12 weeks ending 2025-06-29",
    "two quarters up to the end of Q2 2025",
    "the week of June 2",
    "week commencing 2025-06-02",
    "since March 2025 onwards",
    "starting from the beginning of Q2",
    "before the end of 2024",
    "pre-2024",
    "up to March",
    "next quarter",
    "following 3 months",
    "last quarter",
    "as things stand",
    "the trailing 12 months",
    "TTM",
    "at the end of each month",
    "broken down by week",
    "on a monthly basis",
    "month over month",
    "MoM",
    "q/q",
    "the one before last",
    "tomorrow",
    *(p.values[0] for p in ROWS),
]
WORDS = sorted(
    word_set(
        "as of at by the end close of from to and or , & - – through until till since starting "
        "beginning week month quarter year eoy eom next coming pre post before after up ending "
        "Q1 Q2 H1 FY2025 2024 2025 March June 2 15th last this 3 twelve months weeks days "
        "each every per daily monthly over on MoM m/m now currently trailing past prior one "
        "tomorrow TTM stands"
    )
)


def _assert_gates(text: str) -> int:
    found = 0
    for rule in GATED:
        for m in rule.regex.finditer(text):
            found += 1
            assert rule.gate_regex is not None
            assert rule.gate_regex.search(text.lower(), m.start()), (rule.gate, text, m.group(0))
    return found


def test_every_gated_rule_match_contains_its_gate() -> None:
    for phrase in PHRASES:
        _assert_gates(phrase)
    matched = {i for i, r in enumerate(GATED) for p in PHRASES if r.regex.search(p)}
    assert matched == set(range(len(GATED)))  # each gate is exercised by some phrase


@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8))
def test_gates_hold_on_word_salad(words: list[str]) -> None:
    _assert_gates(" ".join(words))


def test_gates_are_written_in_lower_case() -> None:
    # searched without re.IGNORECASE in the lower-cased question, so an upper-case letter in a
    # gate would never match (an upper-case escape such as \\S included)
    assert [r.gate for r in GATED if r.gate != r.gate.lower()] == []


def test_a_rule_whose_gate_is_absent_is_neither_compiled_nor_searched() -> None:
    rule = Rule(r"(?:from|since)\s+(?:january|february)", lambda m, ctx: None, r"from|since")
    assert not rule.may_match("gross volume last month")
    assert "regex" not in vars(rule)
    assert rule.may_match("gross volume since January")
    assert rule.regex.search("gross volume since January") is not None


def test_a_question_without_time_words_opens_no_gate() -> None:
    assert parse_time("gross volume of acme", date(2025, 7, 15)).range is None
    assert not any(r.may_match("gross volume of acme") for r in GATED)


def test_last_month_opens_only_the_gates_of_rules_that_start_with_last() -> None:
    found = parse_time("gross volume last month", date(2025, 7, 15))
    assert found.range is not None
    assert (found.range.start, found.range.end) == (date(2025, 6, 1), date(2025, 7, 1))
    opened = [r.gate for r in GATED if r.may_match("gross volume last month")]
    assert len(opened) == 2 and all("last" in g for g in opened)


@pytest.mark.parametrize("phrase", ["from March to May 2025", "as of Q2 2025", "pre-2024"])
def test_a_question_with_a_gate_reaches_its_rule(phrase: str) -> None:
    assert any(r.may_match(phrase) and r.regex.search(phrase) for r in GATED)
