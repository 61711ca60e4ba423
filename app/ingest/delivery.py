"""Find the delivery to import: the latest complete Data Pipeline run, a named one, or Sigma CSVs.

Layout (docs/import.md): `SOURCE/RUN/livemode|testmode/TABLE/*.parquet` with a `coreapi_SUCCESS`
file in the mode folder once the run is complete; `SOURCE/livemode|testmode/RUN/...` is accepted
too. SOURCE may itself be one run's folder or its mode folder (a named delivery). A folder of
`TABLE.csv` files is a Sigma download. Remote sources (`s3://`, `gs://`) are listed with DuckDB's
`glob()` through `httpfs`.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

import duckdb

from app.ingest.schema import IngestError, expected_columns

MARKER = "coreapi_SUCCESS"
MODES = {"live": "livemode", "test": "testmode"}
Kind = Literal["data-pipeline", "sigma-csv"]


@dataclass(frozen=True)
class Delivery:
    """One delivery: its kind, run label, mode, and the files of each table it holds."""

    kind: Kind
    source: str
    folder: str
    run: str
    mode: str
    tables: dict[str, list[str]] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)  # folders/files of tables we do not mirror


def is_remote(source: str) -> bool:
    """Whether the source is an object-store URL read through DuckDB's httpfs."""
    return bool(re.match(r"^[a-z][a-z0-9+]*://", source))


def remote_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with httpfs loaded (credentials come from DuckDB's own secrets)."""
    conn = duckdb.connect()
    try:
        conn.execute("INSTALL httpfs")
        conn.execute("LOAD httpfs")
    except duckdb.Error as err:
        reason = str(err).splitlines()[0]
        raise IngestError(
            "Reading s3:// or gs:// needs DuckDB's httpfs extension, which did not load "
            f"({reason}). Copy the delivery folder to this machine (`aws s3 sync` or "
            "`gcloud storage rsync`) and import the local folder, or run `INSTALL httpfs` once "
            "in DuckDB on a machine that can reach extensions.duckdb.org."
        ) from err
    return conn


def _list(pattern: str) -> list[str]:
    """Paths matching a glob pattern (`**` included), local or remote, sorted."""
    if not is_remote(pattern):
        return sorted(glob.glob(pattern, recursive=True))
    with remote_connection() as conn:
        return sorted(
            str(r[0]) for r in conn.execute("SELECT file FROM glob(?)", [pattern]).fetchall()
        )


def _run_key(run: str) -> str:
    """Sort key of a run label: its digits, right-padded (20251231 < 20251231T0600)."""
    return re.sub(r"\D", "", run).ljust(14, "0")


def _runs(source: str, folder_mode: str) -> list[tuple[str, str]]:
    """(run label, mode folder) of every complete run of the mode under `source`."""
    found: list[tuple[str, str]] = []
    for marker in _list(f"{source.rstrip('/')}/**/{MARKER}"):
        folder = PurePosixPath(marker).parent
        if folder.name == folder_mode:
            found.append((folder.parent.name, str(folder)))
        elif folder.parent.name == folder_mode:
            found.append((folder.name, str(folder)))
    return sorted(found, key=lambda r: _run_key(r[0]))


def _table_files(folder: str, suffix: str, nested: bool) -> tuple[dict[str, list[str]], list[str]]:
    """Files of each mirrored table in `folder`, and the names of the others."""
    known = expected_columns()
    tables: dict[str, list[str]] = {}
    unused: set[str] = set()
    pattern = f"{folder}/*/**/*{suffix}" if nested else f"{folder}/*{suffix}"
    for path in _list(pattern):
        rel = PurePosixPath(path).relative_to(folder)
        name = (rel.parts[0] if nested else rel.name.removesuffix(suffix)).lower()
        if name in known:
            tables.setdefault(name, []).append(path)
        else:
            unused.add(name)
    return tables, sorted(unused)


def find_delivery(source: str, mode: str = "live") -> Delivery:
    """The delivery at `source`: the latest complete run of `mode`, or a Sigma CSV folder."""
    source = source.rstrip("/") or "/"
    if mode not in MODES:
        raise IngestError(f"--mode is live or test, not {mode!r}.")
    csvs, unused_csv = _table_files(source, ".csv", nested=False)
    if csvs:
        return Delivery("sigma-csv", source, source, "", mode, csvs, unused_csv)
    runs = _runs(source, MODES[mode])
    if not runs:
        raise IngestError(_no_delivery(source, mode))
    run, folder = runs[-1]
    tables, unused = _table_files(folder, ".parquet", nested=True)
    return Delivery("data-pipeline", source, folder, run, mode, tables, unused)


def _no_delivery(source: str, mode: str) -> str:
    """Why nothing importable was found at `source`, and what to do."""
    other = "test" if mode == "live" else "live"
    if not is_remote(source) and not _list(f"{source}/**"):
        return f"Nothing to import at {source}: the folder is empty or does not exist."
    if _runs(source, MODES[other]):
        return (
            f"{source} has no complete {mode}-mode delivery, but has {other}-mode ones; "
            f"import those with --mode {other}."
        )
    if _list(f"{source}/**/*.parquet"):
        return (
            f"The delivery at {source} has Parquet files but no {MARKER} marker for {mode} mode: "
            "Stripe writes the marker last, so this delivery is incomplete (still being written "
            "or interrupted). Wait for it to finish, or import an earlier complete run."
        )
    return (
        f"No Stripe Data Pipeline delivery ({MODES[mode]}/TABLE/*.parquet with {MARKER}) and no "
        f"Sigma CSV files (TABLE.csv) found at {source}."
    )
