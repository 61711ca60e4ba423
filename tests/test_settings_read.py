"""Every setting does something: each Settings field is read somewhere outside settings.py.

A documented setting that nothing reads would let a user change it and see no effect. The check
is static: some `<expr>.<field>` attribute read (not a write, not a comment) in app/, tools/ or
evals/.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from app.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "app" / "core" / "settings.py"


def attributes_read_in(source: str) -> set[str]:
    """Names read as attributes (`x.name` in a load context) in Python source."""
    return {
        node.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
    }


@cache
def attributes_read() -> frozenset[str]:
    """Attribute names read in app/, tools/ and evals/, settings.py excepted."""
    names: set[str] = set()
    for folder in ("app", "tools", "evals"):
        for path in (ROOT / folder).rglob("*.py"):
            if path != SETTINGS_FILE:
                names |= attributes_read_in(path.read_text())
    return frozenset(names)


@pytest.mark.parametrize("field", list(Settings.model_fields))
def test_every_setting_is_read_outside_settings_py(field: str) -> None:
    assert field in attributes_read(), f"setting `{field}` is declared but never read"


def test_the_scan_counts_reads_not_writes_comments_or_keywords() -> None:
    source = "n = settings.a\nsettings.b = 1\n# settings.c\nSettings(d=1)\nf(s.e.f)\n"
    assert attributes_read_in(source) == {"a", "e", "f"}
    assert {"max_rows", "llm_tool_call_budget", "warehouse_path"} <= attributes_read()
