"""Command line: `ledgerlens ask`, `sql` and `data build|import|export`, thin over the core."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from app.api.serve import add_serve_parsers, run_api_key, run_serve, run_token
from app.core.conversation import Conversation
from app.core.errors import AssistantError, ExecutionError, GuardError, WarehouseMissing
from app.core.request import Request
from app.core.settings import Settings
from app.ingest.commands import EXPORT_FORMATS, add_import_parser, run_delivery_export, run_import
from app.llm.commands import add_llm_parser, run_llm
from app.llm.local import use_local_llm
from app.run.options import add_engine_arguments, apply_engine
from app.store_cli import STORE_COMMANDS, add_store_parsers, run_store_command
from app.terminal import print_result, render_answer

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
    export = dsub.add_parser(
        "export",
        help="write the warehouse as Parquet + manifest, or as "
        "a Stripe delivery (data-pipeline, sigma-csv)",
    )
    export.add_argument("--format", choices=["parquet", *EXPORT_FORMATS], default="parquet")
    export.add_argument("target", nargs="?", type=Path, help="directory for the export")
    export.add_argument("--out", type=Path, help="directory for the export (same as TARGET)")
    export.add_argument("--warehouse", type=Path, help="DuckDB warehouse file to export")
    export.add_argument("--single-account", help="delivery of this account only, no merchant_id")
    add_import_parser(dsub)  # data import (app/ingest/commands.py)
    add_store_parsers(sub)  # history, feedback, verified, share (app/store_cli.py)
    add_llm_parser(sub)
    add_serve_parsers(sub)  # serve, api-key, token (app/api/serve.py)
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
            if args.data_command == "import":
                return run_import(args)
            return _export(args) if args.data_command == "export" else _build(args)
        if args.command == "eval":
            from evals.cli import run_eval

            return run_eval(args)
        if args.command in STORE_COMMANDS:
            return run_store_command(args)
        if args.command == "llm":
            code = run_llm(args, Settings())
            if code == 0 and args.llm_command == "start":
                _warm_up(Settings())
            return code
        if args.command == "serve":
            return run_serve(args, Settings())
        if args.command == "api-key":
            return run_api_key(args, Settings())
        if args.command == "token":
            return run_token(args, Settings())
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

    out = args.out or args.target
    if out is None:
        print(
            "error: say where to export: ledgerlens data export [--format F] OUT", file=sys.stderr
        )
        return EXIT_USER
    if args.format in EXPORT_FORMATS:
        return run_delivery_export(args, out)
    args.out = out
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
    print_result(result, guarded.sql, _console())
    return EXIT_OK


def _warm_up(settings: Settings) -> None:
    """Have the local server read the agent's stable prompt prefix now, not at a first question."""
    from app.agent.loop import Agent
    from app.pipeline.assistant import Assistant

    settings = use_local_llm(settings.model_copy(update={"llm": "local"}))
    try:
        agent = Agent(settings, Assistant(settings))
        tokens = agent.warm_up(settings.default_account)
    except Exception as err:  # the server runs; a failed warm-up only costs the first question time
        print(f"Prompt cache not warmed ({err}); the first question will read the prompt.")
        return
    print(
        f"Prompt cache warmed: the agent's {tokens:,}-token prefix is read once for all questions."
    )


if __name__ == "__main__":
    sys.exit(main())
