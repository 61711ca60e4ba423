"""`ledgerlens data import` and `data export --format data-pipeline|sigma-csv`: parsers and runs.

Progress is a rich bar advancing per table with its rows/s (as `data build` shows); the summary
follows. `--json` prints only the summary as JSON, for scripts. A failed import prints the
reason (which table, column, file) and exits 2: the user's to fix; the warehouse is unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import AssistantError
from app.core.settings import Settings

if TYPE_CHECKING:  # the import machinery loads only when `data import` runs (CLI start-up)
    from app.ingest.load import ImportSummary, OnTable

EXIT_OK, EXIT_USER = 0, 2
EXPORT_FORMATS = ("data-pipeline", "sigma-csv")


def add_import_parser(dsub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `data import SOURCE [--into] [--mode] [--account] [--json]`."""
    p = dsub.add_parser("import", help="import a Stripe Data Pipeline delivery or Sigma CSVs")
    p.add_argument("source", help="delivery folder (local, s3:// or gs://) or Sigma CSV folder")
    p.add_argument("--into", type=Path, help="warehouse file (default: the warehouse_path setting)")
    p.add_argument("--mode", choices=["live", "test"], default="live", help="livemode or testmode")
    p.add_argument("--account", help="account of a single-account delivery (or keep only it)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[OnTable | None]:
    """A per-table callback advancing a rich bar that shows rows/s (None when disabled)."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
    ) as bar:
        task = bar.add_task("", total=total)

        def on_table(table: str, rows: int, seconds: float) -> None:
            rate = rows / seconds if seconds > 0 else 0.0
            bar.update(task, advance=1, description=f"{table}: {rows:,} rows, {rate:,.0f} rows/s")

        yield on_table


def _print_summary(s: ImportSummary) -> None:
    from rich.console import Console

    out = Console(highlight=False)
    out.print(
        f"Imported {len(s.tables)} tables ({s.total_rows:,} rows) from the {s.kind} delivery "
        f"{s.run or '(no run date)'} ({s.mode} mode) into {s.warehouse} in {s.seconds:.1f} s "
        f"({s.rows_per_second:,.0f} rows/s)."
    )
    out.print(f"Data through {s.data_through} UTC; content checksum {s.checksum[:16]}.")
    for table, load in sorted(s.tables.items()):
        if load.dropped_columns:
            out.print(
                f"[dim]{table}: extra columns dropped: {', '.join(load.dropped_columns)}[/dim]"
            )
    if s.skipped:
        out.print(f"Skipped (not used by Ledgerlens): {', '.join(s.skipped)}")
    for warning in s.warnings:
        out.print(f"[yellow]warning:[/yellow] {warning}")


def run_import(args: argparse.Namespace) -> int:
    """Run `data import`; print progress and a summary (or JSON)."""
    from app.ingest.load import import_delivery
    from app.ingest.schema import expected_columns

    into = args.into or Settings().warehouse_path
    try:
        with _progress(not args.json and sys.stdout.isatty(), len(expected_columns())) as cb:
            summary = import_delivery(
                args.source, into, mode=args.mode, account=args.account, on_table=cb
            )
    except AssistantError as err:
        if args.json:
            print(json.dumps({"ok": False, "error": str(err), "warehouse": str(into)}))
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER
    if args.json:
        print(json.dumps({"ok": True, **summary.model_dump()}))
    else:
        _print_summary(summary)
    return EXIT_OK


def run_delivery_export(args: argparse.Namespace, out: Path) -> int:
    """Run `data export --format data-pipeline|sigma-csv`: write the fixture layout."""
    from app.ingest.fixture import export_delivery

    warehouse = args.warehouse or Settings().warehouse_path
    try:
        s = export_delivery(warehouse, out, args.format, single_account=args.single_account)
    except AssistantError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER
    who = f"account {s.account}" if s.account else "all accounts"
    print(
        f"Wrote {len(s.rows)} tables ({s.total_rows:,} rows, {who}) from {warehouse} to {out} "
        f"as {s.format} (run {s.run}) in {s.seconds:.1f} s."
    )
    return EXIT_OK
