"""Compiler golden files: tests/fixtures/compile/*.sql, one executed case per plan shape.

A case is one block of a golden file (blocks are separated by blank lines):

    # title: gross volume, one total for a quarter
    # plan: {"metrics": ["gross_volume"], "time": {"start": "2025-04-01", "end": "2025-07-01"}}
    WITH ...                          <- the compiled DuckDB SQL, pretty-printed, ending with `;`
    # reference:
    SELECT ...;                       <- optional: hand-written from the metric definitions

The plan is a QueryPlan as `QueryPlan.model_validate_json` reads it. A block of `#` lines without
a title sets the file's defaults (`# account:`, `# as_of:`), which a case may override with its
own lines. `# rollups: on` compiles with the demo warehouse's fresh rollups (rollups.sql; every
other case pins them off, so it tests the facts path); with `# fallback: <why>` it must not find
one covering the plan. `# known: <reason>` marks a case whose reference disagrees with the
compiler: its reference comparison is an expected failure (strict, so a fix shows up). Lines
starting with `--` are comments; no block may contain a blank line. A new case may hold a lone
`;` as its compiled SQL: the regeneration switch below fills it in.

Each case compiles its plan with the account's row of `accounts`, compares the pretty SQL with the
golden text exactly, runs the golden SQL through the guard on the demo warehouse and, when there
is a reference, runs that through the guard too and compares the results: the same column names,
the same rows with the same Python types (money is Decimal), in the same order when the compiled
SQL orders its rows (otherwise as sorted lists).

After an intended compiler change, regenerate the expected SQL in place and review the diff:

    LEDGERLENS_UPDATE_GOLDEN=1 python -m pytest -q tests/test_compile_golden.py

Regeneration rewrites only the compiled SQL of each case; references are never touched, and every
regenerated case is still executed and compared with its reference.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, get_args

import pytest
import sqlglot
from sqlglot import exp

from app.core.errors import ExecutionError
from app.core.plan import AggregateFunc, QueryPlan
from app.pipeline.assistant import Assistant
from app.run.warehouse import Result
from app.semantic.load import semantic_model
from app.sql.compile import CompileContext, compile_plan

FIXTURES = Path(__file__).parent / "fixtures" / "compile"
UPDATE = os.environ.get("LEDGERLENS_UPDATE_GOLDEN") == "1"
_BLOCKS = re.compile(r"\n\s*\n")


class ReferenceMismatch(AssertionError):
    """The compiled SQL does not return the reference's result (other rows, or an error)."""


@dataclass(frozen=True)
class Case:
    """One golden case: a plan, where it runs, the SQL it must compile to, and its reference."""

    file: str
    title: str
    plan: QueryPlan
    account: str
    as_of: date
    expected: str
    reference: str | None
    known: str | None
    rollups: bool = False  # `# rollups: on`: compiled with the warehouse's fresh rollups
    fallback: str | None = None  # `# fallback: <why>`: no rollup covers the plan (facts read)


def _split_block(block: str) -> tuple[dict[str, str], list[str], list[str]]:
    """(meta, expected SQL lines, the rest) of one block; `--` comment lines are dropped."""
    lines = [line for line in block.splitlines() if not line.startswith("--")]
    meta: dict[str, str] = {}
    while lines and lines[0].startswith("#"):
        key, _, value = lines.pop(0).lstrip("#").partition(":")
        meta[key.strip()] = value.strip()
    end = next((i + 1 for i, line in enumerate(lines) if line.rstrip().endswith(";")), 0)
    return meta, lines[:end], lines[end:]


def _statement(lines: list[str]) -> str:
    return "\n".join(lines).rstrip().removesuffix(";").rstrip()


def load_cases(path: Path) -> list[Case]:
    """The cases of one golden file, in file order."""
    defaults: dict[str, str] = {}
    cases = []
    for block in _BLOCKS.split(path.read_text(encoding="utf-8").strip()):
        meta, expected, rest = _split_block(block)
        if "title" not in meta:
            assert not expected and not rest, f"{path.name}: a block without a title: {block!r}"
            defaults.update(meta)
            continue
        meta = {**defaults, **meta}
        reference = None
        if rest:
            assert rest[0].strip() == "# reference:", f"{path.name}: {meta['title']}: {rest[0]!r}"
            reference = _statement(rest[1:])
        cases.append(
            Case(
                file=path.name,
                title=meta["title"],
                plan=QueryPlan.model_validate_json(meta["plan"]),
                account=meta["account"],
                as_of=date.fromisoformat(meta["as_of"]),
                expected=_statement(expected),
                reference=reference,
                known=meta.get("known"),
                rollups=meta.get("rollups") == "on",
                fallback=meta.get("fallback"),
            )
        )
    return cases


def rewrite_expected(path: Path, title: str, sql: str) -> None:
    """Replace the compiled SQL of the case titled `title` in place (the regeneration switch)."""
    blocks = _BLOCKS.split(path.read_text(encoding="utf-8").strip())
    for i, block in enumerate(blocks):
        lines = block.splitlines()
        start = next((j for j, line in enumerate(lines) if not line.startswith(("#", "--"))), 0)
        if f"# title: {title}" in lines[:start]:
            end = next(j + 1 for j in range(start, len(lines)) if lines[j].rstrip().endswith(";"))
            blocks[i] = "\n".join([*lines[:start], f"{sql};", *lines[end:]])
            break
    else:
        raise AssertionError(f"{path.name}: no case titled {title!r}")
    tmp = path.with_suffix(".sql.tmp")
    tmp.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    tmp.replace(path)


def _params() -> Iterator[Any]:
    for path in sorted(FIXTURES.glob("*.sql")):
        for case in load_cases(path):
            marks = []
            if case.known:
                marks.append(
                    pytest.mark.xfail(reason=case.known, raises=ReferenceMismatch, strict=True)
                )
            yield pytest.param(case, id=f"{path.stem}: {case.title}", marks=marks)


CASES = list(_params())


def _typed(rows: tuple[tuple[Any, ...], ...]) -> list[tuple[tuple[str, Any], ...]]:
    """Rows with each value's Python type beside it, so Decimal 1 and float 1.0 differ."""
    return [tuple((type(v).__name__, v) for v in row) for row in rows]


def _orders(sql: str) -> bool:
    """Whether the statement's outer SELECT has an ORDER BY (its row order is then specified)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    return isinstance(tree, exp.Select) and tree.args.get("order") is not None


def _run(assistant: Assistant, sql: str, account: str) -> Result:
    result = assistant.session.run_sql(sql, account)
    assert not result.truncated, "the row cap cut the result: narrow the case"
    return result


@pytest.mark.parametrize("case", CASES)
def test_compile_golden(assistant: Assistant, case: Case) -> None:
    info = assistant.session.account_info(case.account)
    assert info is not None, f"no account {case.account} in the demo warehouse"
    rollups = assistant.session.fresh_rollups(case.account) if case.rollups else frozenset()
    assert rollups or not case.rollups, "the demo warehouse has no fresh rollups"
    ctx = CompileContext(account=info, as_of=case.as_of, model=semantic_model(), rollups=rollups)
    sql = compile_plan(case.plan, ctx).expression.sql("duckdb", pretty=True)
    reads_rollup = case.rollups and not case.fallback
    assert reads_rollup == ("rollup_" in sql), "a `rollups: on` case reads a rollup, others never"

    if UPDATE and sql != case.expected:
        rewrite_expected(FIXTURES / case.file, case.title, sql)
    else:
        assert sql == case.expected
    if case.reference is None:
        assert _run(assistant, sql, case.account).rows, "no rows on the demo warehouse"
        return
    want = _run(assistant, case.reference, case.account)
    assert want.rows, "the reference returns no rows on the demo warehouse: it checks nothing"
    try:
        got = _run(assistant, sql, case.account)
    except ExecutionError as error:
        raise ReferenceMismatch(f"the compiled SQL fails: {error}") from error
    ordered = _orders(sql)
    got_rows = _typed(got.rows) if ordered else sorted(_typed(got.rows), key=repr)
    want_rows = _typed(want.rows) if ordered else sorted(_typed(want.rows), key=repr)
    if got.columns != want.columns or got_rows != want_rows:
        raise ReferenceMismatch(
            f"compiled {got.columns} {got_rows[:5]}\nreference {want.columns} {want_rows[:5]}"
        )


def test_golden_files_cover_every_kind_and_shape() -> None:
    cases = [p.values[0] for p in CASES]
    assert len({(c.file, c.title) for c in cases}) == len(cases), "titles repeat within a file"
    model = semantic_model()
    metrics = {m for c in cases for m in c.plan.metrics}
    assert metrics >= set(model.metrics), "every metric of metrics.yaml has a golden case"
    kinds = {model.metrics[m].aggregation for m in metrics}
    assert kinds >= {"flow", "stock", "snapshot", "ratio", "custom"}
    dimensions = {
        d for c in cases for d in (*c.plan.dimensions, *(f.dimension for f in c.plan.filters))
    }
    assert dimensions >= set(model.dimensions), "every dimension is broken down or filtered on"
    assert {c.plan.listing for c in cases} >= set(model.lists)
    assert {c.plan.grain for c in cases} >= {"day", "week", "month", "quarter", "year"}
    comparisons = {c.plan.comparison.kind for c in cases if c.plan.comparison}
    assert comparisons == {"previous_period", "same_period_last_year"}
    assert {c.plan.ranking.direction for c in cases if c.plan.ranking} == {"top", "bottom"}
    assert {f.op for c in cases for f in c.plan.filters} >= {"eq", "in", "neq", "not_in", "gt"}
    assert any(c.plan.by_currency for c in cases)
    assert any(c.plan.currency for c in cases)
    assert any(len(c.plan.metrics) > 1 for c in cases)
    funcs = {c.plan.aggregate.func for c in cases if c.plan.aggregate}
    assert funcs == set(get_args(AggregateFunc)), "every statistic has a golden case"
    assert sum(c.reference is not None for c in cases) * 2 >= len(cases)


def test_regeneration_rewrites_only_the_compiled_sql(tmp_path: Path) -> None:
    path = tmp_path / "sample.sql"
    header = "-- a header\n\n# account: acct_demo_01\n# as_of: 2025-07-15\n\n"
    new_case = '# title: new\n# plan: {"metrics": ["mrr"]}\n;\n\n'
    old_case = (
        '# title: old\n# plan: {"metrics": ["gross_volume"]}\nSELECT\n  1;\n'
        "# reference:\nSELECT 1 AS v;\n"
    )
    path.write_text(header + new_case + old_case, encoding="utf-8")
    rewrite_expected(path, "new", "SELECT\n  2")
    rewrite_expected(path, "old", "SELECT\n  3")
    new, old = load_cases(path)
    assert (new.expected, new.reference, new.account) == ("SELECT\n  2", None, "acct_demo_01")
    assert (old.expected, old.reference, old.as_of) == (
        "SELECT\n  3",
        "SELECT 1 AS v",
        date(2025, 7, 15),
    )
    assert path.read_text(encoding="utf-8").startswith(header)
    with pytest.raises(AssertionError, match="no case titled"):
        rewrite_expected(path, "missing", "SELECT 4")
