"""The `--engine` and `--parquet` options shared by `ledgerlens ask`, `sql` and `eval`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import get_args

from app.core.settings import EngineName, Settings
from app.run.export import read_manifest


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `--engine duckdb|spark` and `--parquet DIR` to a subcommand."""
    parser.add_argument(
        "--engine",
        choices=get_args(EngineName),
        help="query engine (default: the `engine` setting, duckdb)",
    )
    parser.add_argument(
        "--parquet",
        type=Path,
        metavar="DIR",
        help="Parquet export (from `ledgerlens data export`) that the Spark engine reads",
    )


def apply_engine(settings: Settings, args: argparse.Namespace) -> Settings:
    """Settings with the engine and Parquet directory the command line asked for."""
    update: dict[str, object] = {}
    if getattr(args, "engine", None):
        update["engine"] = args.engine
    if getattr(args, "parquet", None) is not None:
        update["parquet_dir"] = args.parquet
    return settings.model_copy(update=update) if update else settings


def export_source(settings: Settings) -> Path | None:
    """The DuckDB file a Spark run's Parquet export was made from (None for DuckDB runs)."""
    if settings.engine != "spark" or settings.parquet_dir is None:
        return None
    return Path(read_manifest(settings.parquet_dir).source)
