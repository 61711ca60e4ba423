"""Prompt files: front matter and placeholders checked at load, rendering strict, content hashed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from app.agent.prompts import Prompt, all_prompts, load_prompt, prompt_hashes, prompts_dir
from app.core.errors import PromptError

SHIPPED = {
    "system": {"guide", "context"},
    "plan": set(),
    "actions": set(),
    "question": {"account", "as_of", "timezone", "currency", "periods", "metrics", "question"},
    "sql_fallback": {"question"},
    "explain": {"question", "plan", "table", "assumptions"},
}


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_prompt_loads_with_its_variables() -> None:
    prompts = all_prompts()
    assert [p.name for p in prompts] == sorted(SHIPPED)
    for p in prompts:
        assert set(p.variables) == SHIPPED[p.name]
        assert p.path == prompts_dir() / f"{p.name}.md"
        assert p.version
        assert p.description
        assert 0 < p.tokens < 1000
        assert p.sha256 == hashlib.sha256(p.path.read_bytes()).hexdigest()


def test_prompt_hashes_name_every_prompt() -> None:
    hashes = prompt_hashes()
    assert set(hashes) == set(SHIPPED)
    assert all(len(h) == 64 for h in hashes.values())


def test_render_fills_every_variable() -> None:
    text = load_prompt("explain").render(
        question="Q?", plan="PLAN", table="| a |", assumptions="none; $5 stays literal"
    )
    assert "Question: Q?" in text
    assert "$5 stays literal" in text
    assert "$" not in text.replace("$5", "")


def test_render_rejects_missing_and_extra_variables() -> None:
    fallback = load_prompt("sql_fallback")
    with pytest.raises(PromptError, match=r"sql_fallback \(sql_fallback\.md\): missing question"):
        fallback.render()
    with pytest.raises(PromptError, match="unexpected as_of"):
        fallback.render(question="q", as_of="2025-01-01")


def test_system_prompt_states_the_house_rules() -> None:
    # v2: nothing question-, date- or account-specific, so prompt caches reuse the whole prefix
    text = load_prompt("system").render(guide="GUIDE", context="CONTEXT")
    for needle in ("GUIDE", "CONTEXT", "merchant_id", "untrusted", "minor units", "never compute"):
        assert needle in text
    assert text.index("GUIDE") < text.index("CONTEXT")


def test_question_part_carries_account_date_periods_and_question_last() -> None:
    text = load_prompt("question").render(
        account="acct_demo_02",
        as_of="2025-12-31",
        timezone="Europe/Berlin",
        currency="EUR",
        periods='"none"',
        metrics="mrr = ...",
        question="Q?",
    )
    for needle in ("acct_demo_02", "2025-12-31", "Europe/Berlin", "EUR", '"none"', "mrr = ..."):
        assert needle in text
    assert text.rstrip().endswith("Question: Q?")


GOOD = "---\nname: {name}\nversion: 2\nvariables: [a, b]\n---\nUse $a and ${{b}}; cost $$5.\n"


def test_a_good_tmp_prompt_loads(tmp_path: Path) -> None:
    _write(tmp_path, "good", GOOD.format(name="good"))
    p = load_prompt("good", tmp_path)
    assert isinstance(p, Prompt)
    assert (p.name, p.version, p.variables) == ("good", 2, ("a", "b"))
    assert p.render(a="x", b="y") == "Use x and y; cost $5.\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "---\nname: bad\nversion: 1\nvariables: [a]\n---\n$a and $b\n",
            "placeholders not declared in variables: b",
        ),
        (
            "---\nname: bad\nversion: 1\nvariables: [a, b]\n---\nonly $a\n",
            "declared variables never used: b",
        ),
        ("no front matter $a\n", "missing front matter"),
        ("---\nname: bad\nversion: 1\nvariables: [a]\n$a\n", "not closed"),
        ("---\nname: [bad\n---\n$a\n", "not valid YAML"),
        ("---\n- just a list\n---\nx\n", "must be a mapping"),
        ("---\nname: other\nversion: 1\nvariables: []\n---\nx\n", "differs from the file name"),
        ("---\nname: bad\nvariables: []\n---\nx\n", "`version` must be"),
        ("---\nname: bad\nversion: 1\nvariables: a\n---\n$a\n", "`variables` must be a list"),
        ("---\nname: bad\nversion: 1\nvariables: []\nmodel: x\n---\nx\n", "unknown front matter"),
        ("---\nname: bad\nversion: 1\nvariables: []\n---\ncosts $5\n", "invalid \\$ placeholder"),
        ("---\nname: bad\nversion: 1\nvariables: [a, a]\n---\n$a\n", "declared twice"),
    ],
)
def test_malformed_prompts_fail_with_the_file_named(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, "bad", text)
    with pytest.raises(PromptError, match=message) as info:
        load_prompt("bad", tmp_path)
    assert str(path) in str(info.value)


def test_missing_prompt_is_a_prompt_error(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="No prompt 'nope'"):
        load_prompt("nope", tmp_path)


def test_sha256_changes_when_one_byte_changes(tmp_path: Path) -> None:
    path = _write(tmp_path, "good", GOOD.format(name="good"))
    before = load_prompt("good", tmp_path)
    path.write_text(GOOD.format(name="good").replace("cost", "Cost"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a new mtime for sure
    after = load_prompt("good", tmp_path)
    assert after.sha256 != before.sha256
    assert after.template.startswith("Use $a and ${b}; Cost")
    assert before.sha256 == hashlib.sha256(GOOD.format(name="good").encode()).hexdigest()
