"""The one-shot CLI imports only what answering needs: no eval suite, frameworks or rich."""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import EVAL_HELP, _parser

ROOT = Path(__file__).resolve().parents[1]
# Packages an `ask` or `sql` never needs: the eval harness, the LLM and UI frameworks, Spark, and
# rich (only for output printed for a person, not for --json).
HEAVY = ("evals", "langchain", "langchain_core", "langchain_openai", "streamlit", "pyspark", "rich")


def loaded_after(code: str) -> dict[str, list[str]]:
    """Run code in a fresh interpreter; which HEAVY packages it left in sys.modules."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps({{p: sorted(m for m in sys.modules if m.split('.')[0] == p) "
        f"for p in {HEAVY!r}}}))"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    found: dict[str, list[str]] = json.loads(out.stdout.strip().splitlines()[-1])
    return {p: mods for p, mods in found.items() if mods}


def subcommand_help(parser: argparse.ArgumentParser) -> dict[str, str | None]:
    """The one-line help of each subcommand, as `--help` lists it."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a.help for a in sub._choices_actions}


def test_import_app_cli_pulls_in_nothing_heavy() -> None:
    assert loaded_after("import app.cli") == {}


def test_one_ask_in_process_pulls_in_nothing_heavy(demo_path: Path) -> None:
    code = (
        "import contextlib, io\n"
        "from app.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = main(['ask', 'gross volume last month', '--json', '--as-of', '2025-07-15',"
        f" '--warehouse', {str(demo_path)!r}])\n"
        "assert code == 0 and '\"answered\"' in out.getvalue(), out.getvalue()\n"
    )
    assert loaded_after(code) == {}


def test_sql_json_in_process_pulls_in_nothing_heavy(demo_path: Path) -> None:
    code = (
        "import contextlib, io\n"
        "from app.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = main(['sql', 'SELECT count(*) AS n FROM charges', '--json',"
        f" '--warehouse', {str(demo_path)!r}])\n"
        "assert code == 0 and '\"answered\"' in out.getvalue(), out.getvalue()\n"
    )
    assert loaded_after(code) == {}


def test_printing_for_a_person_still_uses_rich(demo_path: Path) -> None:
    code = (
        "import contextlib, io\n"
        "from app.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['ask', 'gross volume last month', '--as-of', '2025-07-15',"
        f" '--warehouse', {str(demo_path)!r}])\n"
    )
    assert set(loaded_after(code)) == {"rich"}


def test_the_eval_placeholder_matches_the_eval_suites_subcommand() -> None:
    light, full = _parser(with_eval=False), _parser(with_eval=True)
    assert light.format_help() == full.format_help()  # `ledgerlens --help` is unchanged
    assert subcommand_help(full)["eval"] == EVAL_HELP


def test_eval_is_parsed_by_the_eval_suite(capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["eval", "--help"])
    assert stop.value.code == 0
    assert "--backend" in capsys.readouterr().out  # the eval suite's own options
