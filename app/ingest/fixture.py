"""Write a warehouse in the layouts Stripe delivers: the fixture for import tests and benchmarks.

`data-pipeline`: `OUT/RUN/livemode/TABLE/part-00000.parquet` per DDL table, then
`coreapi_SUCCESS` last (as Stripe does: the marker says the run is complete). `sigma-csv`:
`OUT/TABLE.csv` with Sigma's column names as the header. With `single_account` only that
account's rows are written and the merchant_id column is left out, as in a delivery for one
account. RUN defaults to the day of the newest balance transaction (no clock is read).
`accounts` is written too: it is not a Sigma table, but a user may add it by hand, and without it
the import derives one (docs/import.md).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import duckdb
from pydantic import BaseModel

from app.core.errors import WarehouseMissing
from app.ingest.delivery import MARKER, MODES
from app.ingest.read import ident, quote
from app.ingest.schema import IngestError, expected_columns
from app.semantic.catalog import TENANT_COLUMN
from data.build import default_memory_limit

Format = Literal["data-pipeline", "sigma-csv"]


class ExportSummary(BaseModel):
    """What an export wrote: where, which layout, rows per table, and the run label."""

    out: str
    format: str
    run: str
    account: str | None
    rows: dict[str, int]
    total_rows: int
    seconds: float


def _run_label(conn: duckdb.DuckDBPyConnection) -> str:
    """The day of the newest balance transaction, YYYY-MM-DD."""
    row = conn.execute("SELECT CAST(max(created) AS DATE) FROM balance_transactions").fetchone()
    if not row or row[0] is None:
        raise IngestError("The warehouse has no balance transactions; there is nothing to export.")
    return str(row[0])


@contextlib.contextmanager
def read_only(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse attached read-only to a fresh in-memory database.

    A process keeps one database per file: a second `duckdb.connect` of a file the app already
    opened with its own settings (memory limit, threads) is refused; an ATTACH is not.
    """
    with duckdb.connect() as conn:
        conn.execute(f"SET memory_limit = '{default_memory_limit()}'")  # half the RAM at most
        conn.execute(f"ATTACH {quote(str(warehouse))} AS w (READ_ONLY)")
        conn.execute("USE w")
        yield conn


def export_delivery(
    warehouse: Path,
    out: Path,
    fmt: Format = "data-pipeline",
    *,
    single_account: str | None = None,
    run: str | None = None,
    mode: str = "live",
) -> ExportSummary:
    """Write the warehouse's tables to `out` in the delivery layout `fmt`."""
    if not warehouse.is_file():
        raise WarehouseMissing(f"No warehouse at {warehouse} to export.")
    started = time.perf_counter()
    rows: dict[str, int] = {}
    with read_only(warehouse) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        run = run or _run_label(conn)
        folder = out / run / MODES[mode] if fmt == "data-pipeline" else out
        folder.mkdir(parents=True, exist_ok=True)
        if single_account is not None:
            known = conn.execute(
                "SELECT count(*) FROM accounts WHERE merchant_id = ?", [single_account]
            ).fetchone()
            if not known or not known[0]:
                raise IngestError(f"No account {single_account} in {warehouse}.")
        for table, columns in sorted(expected_columns().items()):
            keep = [c for c, _ in columns if not (single_account and c == TENANT_COLUMN)]
            where = f" WHERE {TENANT_COLUMN} = {quote(single_account)}" if single_account else ""
            query = f"SELECT {', '.join(ident(c) for c in keep)} FROM {ident(table)}{where}"
            if fmt == "data-pipeline":
                (folder / table).mkdir(exist_ok=True)
                target = folder / table / "part-00000.parquet"
                options = "FORMAT parquet, COMPRESSION zstd"
            else:
                target = folder / f"{table}.csv"
                options = "FORMAT csv, HEADER true"
            conn.execute(f"COPY ({query}) TO {quote(str(target))} ({options})")
            counted = conn.execute(f"SELECT count(*) FROM ({query})").fetchone()
            rows[table] = int(counted[0]) if counted else 0
    if fmt == "data-pipeline":
        (folder / MARKER).touch()  # last: the run is complete
    return ExportSummary(
        out=str(out),
        format=fmt,
        run=run,
        account=single_account,
        rows=rows,
        total_rows=sum(rows.values()),
        seconds=round(time.perf_counter() - started, 3),
    )
