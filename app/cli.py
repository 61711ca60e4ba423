"""Command line: `ledgerlens ask`, `sql` and `data build`, thin over the core."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.api.serve import add_serve_parsers, run_api_key, run_serve
from app.core.answer import Answer
from app.core.conversation import Conversation
from app.core.errors import AssistantError, ExecutionError, GuardError, WarehouseMissing
from app.core.request import Request
from app.core.settings import Settings
from app.explain.headline import TOTAL, shown_table
from app.llm.commands import add_llm_parser, run_llm
from app.llm.local import use_local_llm
from app.run.options import add_engine_arguments, apply_engine
from app.semantic.format import format_value, llm_usage_text, plural
from app.store_cli import STORE_COMMANDS, add_store_parsers, run_store_command

if TYPE_CHECKING:
    from rich.console import Console

    from app.pipeline.session import Session
    from app.router import Router

EXIT_OK, EXIT_INTERNAL, EXIT_REFUSED = 0, 1, 2
EXIT_USER = EXIT_REFUSED  # the user's to fix (no warehouse at that path, a mistake in pasted SQL)
# `ledgerlens --help` lists `eval` with this line; the eval suite builds the real subcommand only
# when it is asked for, so that `ask` and `sql` never import it (a test keeps the two in step).
EVAL_HELP = "run the eval cases, write reports and apply the regression gate"


def _parser(with_eval: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ledgerlens",
        description="Ask finance questions about "
        "Stripe-shaped billing, payments, tax and revenue data.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer a question (or start an interactive session)")
    ask.add_argument("question", nargs="?", help="the question; omit with --interactive")
    ask.add_argument(
        "--as-of",
        type=date.fromisoformat,
        help="answer as of this date (default: the warehouse's latest data date)",
    )
    ask.add_argument("--account", help="merchant account (default: LEDGERLENS_DEFAULT_ACCOUNT)")
    ask.add_argument("--warehouse", type=Path, help="DuckDB warehouse file")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.add_argument("--interactive", action="store_true", help="ask several questions in a row")
    add_engine_arguments(ask)
    sql = sub.add_parser("sql", help="run read-only SQL through the guard")
    sql.add_argument("query")
    sql.add_argument("--account", help="merchant account (default: LEDGERLENS_DEFAULT_ACCOUNT)")
    sql.add_argument("--warehouse", type=Path, help="DuckDB warehouse file")
    sql.add_argument(
        "--dialect",
        default="duckdb",
        choices=["duckdb", "trino"],
        help="SQL dialect of the query (trino: Stripe Sigma)",
    )
    sql.add_argument("--json", action="store_true", help="print the result as JSON")
    add_engine_arguments(sql)
    data = sub.add_parser("data", help="warehouse commands")
    dsub = data.add_subparsers(dest="data_command", required=True)
    build = dsub.add_parser("build", help="build a synthetic Stripe-shaped warehouse")
    build.add_argument("--scale", default="demo", help="demo | small | large | <N customers>")
    build.add_argument("--seed", type=int, default=7)
    build.add_argument("--end", type=date.fromisoformat, default=date(2025, 12, 31))
    build.add_argument("--out", type=Path, default=Path("warehouse/demo.duckdb"))
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    export = dsub.add_parser("export", help="write every warehouse table as Parquet + manifest")
    export.add_argument("--format", choices=["parquet"], default="parquet")
    export.add_argument("--out", type=Path, required=True, help="directory for the export")
    export.add_argument("--warehouse", type=Path, help="DuckDB warehouse file to export")
    add_store_parsers(sub)  # history, feedback, verified, share (app/store_cli.py)
    add_llm_parser(sub)
    add_serve_parsers(sub)  # serve, api-key (app/api/serve.py)
    if with_eval:
        from evals.cli import add_eval_parser  # the eval runner lives with the eval suite

        add_eval_parser(sub)
    else:
        sub.add_parser("eval", help=EVAL_HELP)
    return p


def _console() -> Console:
    from rich.console import Console  # rich only when something is printed for a person

    return Console(stderr=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ledgerlens` console script."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parser(with_eval=argv[:1] == ["eval"]).parse_args(argv)
    try:
        if args.command == "data":
            return _export(args) if args.data_command == "export" else _build(args)
        if args.command == "eval":
            from evals.cli import run_eval

            return run_eval(args)
        if args.command in STORE_COMMANDS:
            return run_store_command(args)
        if args.command == "llm":
            return run_llm(args, Settings())
        if args.command == "serve":
            return run_serve(args, Settings())
        if args.command == "api-key":
            return run_api_key(args, Settings())
        settings = apply_engine(Settings(), args)
        if args.command == "ask":
            settings = use_local_llm(settings)  # LEDGERLENS_LLM=local: start or reuse the server
        if args.warehouse:
            settings = settings.model_copy(update={"warehouse_path": args.warehouse})
        if args.command == "sql":
            return _sql(args, settings)
        return _ask(args, settings)
    except WarehouseMissing as err:  # the user's to fix: say the command that fixes it
        path = getattr(args, "warehouse", None) or Settings().warehouse_path
        print(
            f"{err}\nTo build the demo warehouse there: ledgerlens data build --out {path}",
            file=sys.stderr,
        )
        return EXIT_USER
    except AssistantError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INTERNAL


def _build(args: argparse.Namespace) -> int:
    from data.build import build_warehouse

    stats = build_warehouse(args.scale, args.seed, args.end, args.out, progress=not args.quiet)
    _console().print(
        f"Built {args.out} in {stats.seconds:.1f} s "
        f"({stats.total_rows:,} rows, {stats.rows_per_second:,.0f} rows/s)."
    )
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from app.run.export import export_parquet

    warehouse = args.warehouse or Settings().warehouse_path
    manifest = export_parquet(warehouse, args.out)
    files = sum(len(t.files) for t in manifest.tables.values())
    _console().print(
        f"Exported {len(manifest.tables)} tables ({manifest.total_rows:,} rows, {files} Parquet "
        f"files) from {warehouse} to {args.out} in {manifest.seconds:.1f} s; "
        f"manifest: {args.out / 'manifest.json'}."
    )
    return EXIT_OK


def _latest_date(session: Session, account: str) -> date:
    fresh = session.freshness(account)  # cached: ask() reads the same value again
    return fresh.date() if fresh else date.today()  # allowed-clock: CLI edge


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from app.router import Router

    router = Router(settings)
    account = args.account or settings.default_account
    as_of = args.as_of or _latest_date(router.assistant.session, account)
    if args.interactive or not args.question:
        return _interactive(router, account, as_of, _console())
    answer = router.ask(Request(args.question, as_of=as_of, account=account))
    if args.json:
        print(answer.model_dump_json(indent=2))
    else:
        render_answer(answer, _console())
    if answer.status == "answered":
        return EXIT_OK
    if answer.status == "error":
        print(f"error: {answer.error}", file=sys.stderr)
        return EXIT_INTERNAL
    reason = answer.refusal.reason if answer.refusal else (answer.error or answer.headline)
    print(f"{answer.status}: {reason}", file=sys.stderr)
    return EXIT_REFUSED


def _interactive(router: Router, account: str, as_of: date, console: Console) -> int:
    conv = Conversation()
    console.print(
        f"[bold]Ledgerlens[/bold] — account {account}, as of {as_of}. "
        "Ask a question (empty line or Ctrl-D to quit). Try: "
        "'What was MRR by plan last quarter?'"
    )
    while True:
        try:
            q = input("? ")
        except EOFError:
            return EXIT_OK
        if not q.strip():
            return EXIT_OK
        request = Request(q, as_of=as_of, account=account, conversation=conv)
        render_answer(router.ask(request), console)


def render_answer(answer: Answer, console: Console) -> None:
    """Print an Answer: headline, table, explanation, SQL and assumptions."""
    from rich.markup import escape
    from rich.text import Text

    console.print(Text(answer.headline, style="bold"), highlight=False)
    if answer.read_back:
        console.print(Text(f"Read as: {answer.read_back}", style="cyan"), highlight=False)
    if answer.ignored:
        words = ", ".join(f"'{w}'" for w in answer.ignored)
        console.print(Text(f"Ignored: {words}", style="yellow"), highlight=False)
    for notice in answer.notices:
        console.print(f"[yellow]{escape(notice)}[/yellow]")
    if answer.clarification:
        for choice in answer.clarification.choices:
            console.print(f"  • {escape(choice.label)}: {escape(choice.question)}")
    if answer.refusal and answer.refusal.suggestions:
        console.print("Try: " + " | ".join(escape(s) for s in answer.refusal.suggestions))
    if answer.status != "answered":
        return
    if answer.bridge:  # a "why" answer: the change, driver by driver, before the table
        _print_bridge(answer, console)
    if answer.rows and (len(answer.rows) > 1 or len(answer.columns) > 1):
        _print_table(answer, console)
    if answer.explanation:
        console.print(Text(answer.explanation))
    for a in answer.assumptions:
        console.print(f"[dim]• {escape(a.text)}[/dim]")
    if answer.freshness:
        console.print(f"[dim]Data loaded up to {answer.freshness:%Y-%m-%d %H:%M} UTC.[/dim]")
    if answer.llm is not None:
        console.print(f"[dim]Model: {escape(llm_usage_text(answer.llm))}[/dim]", highlight=False)
    console.print("[dim]SQL:[/dim]")
    console.print(answer.sql or "", markup=False, highlight=False, soft_wrap=True)


def _print_table(answer: Answer, console: Console) -> None:
    """The answer's rows (and Total row) as a grid, or one record per row when too wide."""
    from rich.markup import escape
    from rich.table import Table

    shown = shown_table(answer)
    names = [c.name for c in shown.columns]
    cur_idx = names.index("currency") if "currency" in names else None
    grain = answer.plan.grain if answer.plan is not None else None
    headers = tuple(c.label or c.name for c in shown.columns)
    cells = []
    for row in shown.rows[:50]:
        cur = str(row[cur_idx]) if cur_idx is not None else None
        cells.append(
            tuple(
                format_value(v, c, cur, grain=grain)
                for v, c in zip(row, shown.columns, strict=False)
            )
        )
    total: tuple[str, ...] | None = None
    if shown.total is not None:
        cur = str(shown.rows[0][cur_idx]) if cur_idx is not None else None
        label = TOTAL if len(shown.rows) <= 50 else f"{TOTAL} ({plural(len(shown.rows), 'row')})"
        total = tuple(
            label if v == TOTAL else "" if v is None else format_value(v, c, cur)
            for v, c in zip(shown.total, shown.columns, strict=True)
        )
    if _too_wide(headers, tuple(cells) + ((total,) if total else ()), console.width):
        _print_records(headers, tuple(cells) + ((total,) if total else ()), console)
    else:
        table = Table(show_lines=False)
        for c, head in zip(shown.columns, headers, strict=True):
            right = c.kind in ("money", "count", "ratio")
            table.add_column(escape(head), justify="right" if right else "left")
        for cell_row in cells:
            table.add_row(*[escape(v) for v in cell_row])  # data, never markup
        if total is not None:
            table.add_section()
            table.add_row(*[escape(v) for v in total], style="bold")
        console.print(table)
    if len(answer.rows) > 50 or answer.truncated:
        console.print(
            f"[dim]{plural(len(answer.rows), 'row')}"
            f"{' (truncated)' if answer.truncated else ''}; use --json for all[/dim]"
        )


def _print_bridge(answer: Answer, console: Console) -> None:
    """A change's bridge, one line a step: the start, each driver's signed amount, the end."""
    from rich.markup import escape

    money = next((c for c in answer.columns if c.kind == "money"), None)
    currency = answer.currency
    pad = max(len(step.label) for step in answer.bridge)
    for step in answer.bridge:
        value = format_value(step.amount, money, currency) if money else str(step.amount)
        sign = "+" if step.kind == "change" and step.amount > 0 else ""
        console.print(f"  {escape(step.label.ljust(pad))}  {sign}{escape(value)}", highlight=False)


def _sql(args: argparse.Namespace, settings: Settings) -> int:
    from app.pipeline.session import Session

    session = Session(settings)
    account = args.account or settings.default_account
    try:
        guarded = session.guard(args.query, account, read_dialect=args.dialect)
        result = session.executor.run(guarded)
    except GuardError as err:
        payload = {"status": "rejected", "rule": err.rule, "detail": err.detail}
        if args.json:
            print(json.dumps(payload))
        # A typo is said in plain words ("Syntax error near line 1, column 20: …"); a refusal
        # names the guard's rule.
        print(err.detail if err.rule == "parse_error" else f"rejected: {err}", file=sys.stderr)
        return EXIT_REFUSED
    except ExecutionError as err:  # the query itself: an unknown column, a type error, the limit
        if args.json:
            print(json.dumps({"status": "error", "error": str(err)}))
        print(f"error in the query: {err}", file=sys.stderr)
        return EXIT_USER
    except AssistantError as err:
        if args.json:
            print(json.dumps({"status": "error", "error": str(err)}))
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INTERNAL
    if args.json:
        print(
            json.dumps(
                {
                    "status": "answered",
                    "sql": guarded.sql,
                    "columns": result.columns,
                    "rows": [list(r) for r in result.rows],
                    "truncated": result.truncated,
                },
                default=str,
            )
        )
        return EXIT_OK
    from rich.markup import escape
    from rich.table import Table

    console = _console()
    if _too_wide(result.columns, result.rows, console.width):
        _print_records(result.columns, result.rows[:100], console)
    else:
        table = Table()
        for c in result.columns:
            table.add_column(escape(c))
        for row in result.rows[:100]:
            table.add_row(*["—" if v is None else escape(str(v)) for v in row])
        console.print(table)
    console.print(
        f"[dim]{plural(len(result.rows), 'row')}{' (truncated)' if result.truncated else ''}. "
        f"SQL run:[/dim] {escape(guarded.sql)}",
        highlight=False,
    )
    return EXIT_OK


_NARROWEST = 8  # characters a wrapped grid column keeps before the grid turns unreadable


def _too_wide(columns: tuple[str, ...], rows: tuple[tuple[Any, ...], ...], width: int) -> bool:
    """Whether a grid would not fit even with each column wrapped to a few characters.

    Then each row is printed down; a grid that only needs wrapping stays a grid.
    """
    widths = [len(c) for c in columns]
    for row in rows[:100]:
        widths = [max(w, len(str(v))) for w, v in zip(widths, row, strict=True)]
    return sum(min(w, _NARROWEST) + 3 for w in widths) + 1 > width


def _print_records(
    columns: tuple[str, ...], rows: tuple[tuple[Any, ...], ...], console: Console
) -> None:
    """Each row as `column  value` lines, empty values left out and counted.

    The columns empty in every row are named once at the end.
    """
    from rich.markup import escape

    pad = max(len(c) for c in columns)
    always_empty = set(columns)
    for n, row in enumerate(rows, start=1):
        if len(rows) > 1:
            console.print(f"[bold]── row {n} ──[/bold]")
        empty = 0
        for c, v in zip(columns, row, strict=True):
            if v is None or v == "":
                empty += 1
                continue
            always_empty.discard(c)
            console.print(f"{escape(c.ljust(pad))}  {escape(str(v))}", highlight=False)
        if empty:
            console.print(f"[dim]({plural(empty, 'empty column')} not shown)[/dim]")
    if rows and always_empty:
        names = ", ".join(c for c in columns if c in always_empty)
        console.print(f"[dim]Empty in every row: {escape(names)}[/dim]", highlight=False)


if __name__ == "__main__":
    sys.exit(main())
