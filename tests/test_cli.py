import json
from decimal import Decimal

from app.cli import main

REQUIRED = {
    "timings",
    "backend",
    "sql",
    "columns",
    "rows",
    "truncated",
    "assumptions",
    "definitions",
    "period",
    "currency",
    "explanation",
    "status",
}


def run(capsys, *args: str) -> tuple[int, dict, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_ask_json_answered(capsys, demo_path) -> None:
    code, answer, _ = run(
        capsys,
        "ask",
        "gross volume last quarter",
        "--as-of",
        "2025-07-15",
        "--warehouse",
        str(demo_path),
        "--json",
    )
    assert code == 0 and answer["status"] == "answered"
    assert set(answer) >= REQUIRED
    assert set(answer["timings"]) >= {
        "understand_ms",
        "compile_ms",
        "guard_ms",
        "execute_ms",
        "explain_ms",
        "total_ms",
    }
    assert answer["period"]["start"] == "2025-04-01" and answer["currency"] == "usd"


def test_the_answer_reads_the_question_back_and_names_ignored_words(capsys, demo_path) -> None:
    question = "gross volume for the whole of last quarter excluding Visa"
    args = ("ask", question, "--as-of", "2025-07-15", "--warehouse", str(demo_path))
    code, answer, _ = run(capsys, *args, "--json")
    assert code == 0 and answer["status"] == "answered"
    assert answer["read_back"] == (
        "Gross volume · where card brand is not Visa · last quarter (2025-04-01 to 2025-06-30)"
        " · in USD"
    )
    assert answer["ignored"] == ["whole"]
    assert main(list(args)) == 0
    printed = capsys.readouterr().out
    assert "Read as: Gross volume · where card brand is not Visa" in printed
    assert "Ignored: 'whole'" in printed


def test_ask_json_refused_exits_2(capsys, demo_path) -> None:
    code, answer, err = run(
        capsys,
        "ask",
        "what's the weather in Paris",
        "--as-of",
        "2025-07-15",
        "--warehouse",
        str(demo_path),
        "--json",
    )
    assert code == 2 and answer["status"] == "refused" and "refused" in err


def test_sql_rejection_names_the_rule(capsys, demo_path) -> None:
    code, payload, err = run(
        capsys, "sql", "DELETE FROM charges", "--warehouse", str(demo_path), "--json"
    )
    assert code == 2 and payload["rule"] == "select_only" and "rejected" in err


def test_sql_trino_dialect_runs_scoped(capsys, demo_path) -> None:
    code, payload, _ = run(
        capsys,
        "sql",
        "SELECT date_format(created, '%Y-%m') AS m, count_if(paid) AS n "
        "FROM charges GROUP BY 1 ORDER BY 1",
        "--dialect",
        "trino",
        "--warehouse",
        str(demo_path),
        "--json",
    )
    assert code == 0 and payload["rows"] and "merchant_id = 'acct_demo_01'" in payload["sql"]


def test_missing_warehouse_is_a_clear_error(capsys, tmp_path) -> None:
    code = main(["ask", "mrr", "--warehouse", str(tmp_path / "nope.duckdb")])
    _, err = capsys.readouterr()
    assert code == 2 and "ledgerlens data build" in err  # the user's to fix, not an internal error
    assert f"ledgerlens data build --out {tmp_path / 'nope.duckdb'}" in err  # the command to run


def test_a_mistake_in_pasted_sql_is_the_users_to_fix(capsys, demo_path) -> None:
    code = main(["sql", "SELECT amunt FROM charges", "--warehouse", str(demo_path)])
    _, err = capsys.readouterr()
    assert code == 2 and "amunt" in err and "Traceback" not in err
    code = main(["sql", "SELECT amount * FROM charges", "--warehouse", str(demo_path)])
    _, err = capsys.readouterr()
    assert code == 2 and "<class" not in err and "sqlglot" not in err
    assert err.strip() == (
        "Syntax error near line 1, column 20: something is missing before 'FROM' (an operator or "
        "keyword without what follows it), in: SELECT amount * FROM charges"
    )
    code = main(["sql", "SELECT 'open FROM charges", "--warehouse", str(demo_path)])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith("Syntax error: unreadable (a quote or comment left open?)")


def test_a_wide_result_prints_each_row_down(capsys, demo_path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    code = main(["sql", "SELECT * FROM charges ORDER BY id LIMIT 2", "--warehouse", str(demo_path)])
    out, _ = capsys.readouterr()
    assert code == 0 and out.count("── row ") == 2
    assert "merchant_id" in out and "empty column" in out and "┃" not in out
    assert "Empty in every row: " in out and "dispute_id" in out.split("Empty in every row: ")[1]
    narrow_sql = "SELECT id, amount FROM charges ORDER BY id LIMIT 2"
    main(["sql", narrow_sql, "--warehouse", str(demo_path)])
    narrow, _ = capsys.readouterr()
    assert "┃ id" in narrow and "── row " not in narrow  # a narrow result stays a grid


def test_a_breakdown_prints_its_total_and_shares(capsys, demo_path) -> None:
    args = ("ask", "gross volume by card brand in Q2 2025", "--as-of", "2025-07-15")
    code, answer, _ = run(capsys, *args, "--warehouse", str(demo_path), "--json")
    assert code == 0 and answer["headline"].startswith("Total: $")
    i = [c["name"] for c in answer["columns"]].index("gross_volume")
    total = sum(Decimal(r[i]) for r in answer["rows"])
    assert Decimal(answer["total"][i]) == total and len(answer["rows"]) == len(answer["shares"])
    assert main([*args, "--warehouse", str(demo_path)]) == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert answer["headline"] == lines[0]  # the headline is what the JSON says
    assert "Share" in printed
    total_line = next(line for line in lines if "Total " in line and "│" in line)
    assert f"${total:,.2f}" in total_line and "100.00%" in total_line


def test_a_why_answer_prints_its_bridge_and_a_wide_answer_each_row_down(
    capsys, demo_path, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    args = ["ask", "Why did MRR drop in March 2025?", "--as-of", "2025-12-31"]
    assert main([*args, "--warehouse", str(demo_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("MRR did not drop in March 2025; it rose")
    bridge = [line.split() for line in out.splitlines() if line.startswith("  ")]
    assert ["February", "2025", "$28,713.61"] in bridge and [
        "March",
        "2025",
        "$30,566.12",
    ] in bridge
    assert "MRR (previous)" in out and "┃" not in out and "…" not in out  # records, not a grid


def test_an_llm_answer_prints_what_the_model_did() -> None:
    from rich.console import Console

    from app.core.answer import Answer, LlmUsage
    from app.terminal import render_answer

    answer = Answer(
        status="answered",
        question="How many distinct currencies did we charge in 2025?",
        headline="5",
        backend="llm:qwen2.5-coder-1.5b",
        llm=LlmUsage(model="qwen2.5-coder-1.5b", calls=2, prompt_tokens=900, cached_tokens=700),
    )
    console = Console(record=True, width=120)
    render_answer(answer, console)
    assert (
        "Model: qwen2.5-coder-1.5b · 2 calls · 900 prompt tokens (700 from the prompt cache)"
        in (console.export_text())
    )
