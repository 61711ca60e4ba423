"""Import a delivery into a warehouse file: checked first, built beside the target, swapped last.

Steps: find the delivery; read every table's columns and row counts from its files and compare
them with data/ddl (nothing is written when a table, a column or a type is wrong); build the new
warehouse in `.NAME.importing-PID` beside the target (DDL schema, one `INSERT ... SELECT` per
table from `read_parquet`/`read_csv`); check row counts against the files; `post_load` (derived
tables); check the books; then `os.replace` onto the target. Any failure, or a kill, before the
replace leaves the target untouched; the next import removes what a killed one left behind.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
from pydantic import BaseModel, Field

from app.core.resources import ddl_dir
from app.ingest.delivery import Delivery, find_delivery, is_remote
from app.ingest.derive import broken_books, content_checksum, post_load
from app.ingest.read import TableSeen, account_ids, accounts_in, inspect_table, select_sql
from app.ingest.schema import REQUIRED, IngestError, Problem, expected_columns, report
from app.semantic.catalog import TENANT_COLUMN
from data.build import default_memory_limit

OnTable = Callable[[str, int, float], None]  # (table, rows loaded, seconds)


class TableLoad(BaseModel):
    """One table's load: rows, seconds, throughput, and the delivered columns it dropped."""

    rows: int
    seconds: float
    rows_per_second: float
    dropped_columns: list[str] = Field(default_factory=list)


class ImportSummary(BaseModel):
    """What an import did: the delivery, per-table loads, warnings and the content checksum."""

    warehouse: str
    source: str
    kind: str
    mode: str
    run: str
    account: str | None
    data_through: str | None  # newest balance transaction: the freshness answers show
    tables: dict[str, TableLoad] = Field(default_factory=dict)
    skipped: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    total_rows: int = 0
    seconds: float = 0.0
    rows_per_second: float = 0.0
    checksum: str = ""
    phases: dict[str, float] = Field(default_factory=dict)  # seconds per step, for benchmarks


def _clean_leftovers(target: Path) -> None:
    """Remove what earlier imports into `target` left behind when they were killed."""
    for path in target.parent.glob(f".{target.name}.importing-*"):
        pid = path.name.rsplit("-", 1)[-1].split(".")[0]
        alive = False
        if pid.isdigit() and int(pid) != os.getpid():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(pid), 0)
                alive = True
        if not alive:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def _building(target: Path) -> Iterator[Path]:
    """A fresh temporary file beside `target`, removed unless it was swapped in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(target)
    tmp = target.with_name(f".{target.name}.importing-{os.getpid()}")
    wal = tmp.with_name(tmp.name + ".wal")
    for leftover in (tmp, wal):
        leftover.unlink(missing_ok=True)
    try:
        yield tmp
    finally:
        for leftover in (tmp, wal):
            leftover.unlink(missing_ok=True)


def _laps(phases: dict[str, float]) -> Callable[[str | None], None]:
    """A stopwatch: each call records the seconds since the last one under a name (None: skip)."""
    last = [time.perf_counter()]

    def lap(name: str | None) -> None:
        now = time.perf_counter()
        if name is not None:
            phases[name] = round(now - last[0], 3)
        last[0] = now

    return lap


def _single_account(
    conn: duckdb.DuckDBPyConnection, found: dict[str, TableSeen], account: str | None
) -> str:
    """The account of a single-account delivery: --account, or the one id of its accounts file."""
    ids = account_ids(conn, found["accounts"]) if "accounts" in found else []
    if account and len(ids) == 1 and ids[0] != account:
        raise IngestError(
            f"--account {account} does not match the delivery's accounts file, which is for "
            f"{ids[0]} ({found['accounts'].files[0]}); import it with --account {ids[0]}."
        )
    if account:
        return account
    if len(ids) == 1:
        return ids[0]
    raise IngestError(
        "This delivery has no merchant_id column (a single-account delivery) and no accounts "
        "file naming one account; say which account it is with --account acct_..."
    )


def _check(
    delivery: Delivery, conn: duckdb.DuckDBPyConnection, account: str | None
) -> tuple[dict[str, TableSeen], str | None]:
    """Inspect every delivered table; raise one IngestError listing all schema problems.

    Returns the tables seen and the account to load (a single-account delivery's own).
    """
    problems: list[Problem] = []
    found = {t: inspect_table(conn, delivery, t) for t in sorted(delivery.tables)}
    single = all(not f.has_tenant for f in found.values()) and bool(found)
    for seen in found.values():
        problems += seen.problems(single_account=single)
        if not single and not seen.has_tenant:  # some tables have merchant_id, this one not
            problems.append(Problem(seen.table, TENANT_COLUMN, "VARCHAR", "missing", seen.files[0]))
    missing = sorted(REQUIRED - set(found))
    if missing:
        where = delivery.folder
        problems += [Problem(t, "(table)", "a table", "missing", where) for t in missing]
    if problems:
        raise report(problems)
    if single:
        return found, _single_account(conn, found, account)
    if account and not single:  # keep one account of several: it must be there
        known = accounts_in(conn, found["balance_transactions"])
        if account not in known:
            raise IngestError(
                f"The delivery has no balance transactions of account {account}; it has "
                f"{', '.join(known) or 'none'}. Nothing was imported."
            )
    return found, account


def import_delivery(
    source: str | Path,
    into: Path,
    *,
    mode: str = "live",
    account: str | None = None,
    on_table: OnTable | None = None,
) -> ImportSummary:
    """Import the delivery at `source` into the warehouse file `into`, atomically."""
    started = time.perf_counter()
    phases: dict[str, float] = {}
    lap = _laps(phases)
    delivery = find_delivery(str(source), mode)
    lap("find")
    into = Path(into)
    if into.is_symlink():  # replace the file the link points at, not the link
        into = into.resolve()
    with _building(into) as tmp, duckdb.connect(str(tmp)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(f"SET memory_limit = '{default_memory_limit()}'")  # as `data build` does
        if is_remote(delivery.source):
            conn.execute("LOAD httpfs")
        conn.execute("BEGIN")  # one transaction: ~700 COMMENTs, each its own commit, take ~4 s
        for path in sorted(ddl_dir().glob("*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
        conn.execute("COMMIT")
        lap("schema")
        found, account = _check(delivery, conn, account)
        lap("check")
        summary = ImportSummary(
            warehouse=str(into), source=delivery.source, kind=delivery.kind, mode=mode,
            run=delivery.run, account=account, data_through=None, skipped=delivery.unused,
        )  # fmt: skip
        for table in sorted(expected_columns()):
            seen = found.get(table)
            if seen is None:
                if table not in REQUIRED and table != "accounts":
                    summary.warnings.append(f"The delivery has no {table} table; it is empty.")
                continue
            t0 = time.perf_counter()
            conn.execute(select_sql(seen, account))
            counted = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            rows = int(counted[0]) if counted else 0
            filtered = seen.has_tenant and account is not None  # only that account's rows
            expected = rows if filtered else seen.rows
            if rows != expected:
                raise IngestError(
                    f"{table}: {rows:,} rows were loaded but its files hold {expected:,}; "
                    f"the files changed during the import or are damaged ({seen.files[0]})."
                )
            seconds = time.perf_counter() - t0
            summary.tables[table] = TableLoad(
                rows=rows, seconds=round(seconds, 4),
                rows_per_second=round(rows / seconds, 1) if seconds > 0 else 0.0,
                dropped_columns=seen.extra,
            )  # fmt: skip
            if on_table is not None:
                on_table(table, rows, seconds)
        lap("load")
        summary.warnings += post_load(conn, set(found), phases)
        lap(None)
        broken = broken_books(conn)
        lap("books")
        if broken:
            raise IngestError(
                "The imported books do not balance, so the warehouse was not replaced: "
                + "; ".join(broken)
                + ". Check that every table comes from the same delivery."
            )
        summary.checksum = content_checksum(conn)
        lap("checksum")
        latest = conn.execute("SELECT max(created) FROM balance_transactions").fetchone()
        summary.data_through = str(latest[0]) if latest and latest[0] is not None else None
        if summary.data_through is None:
            summary.warnings.append("The delivery has no balance transactions: answers are empty.")
        if not summary.run and summary.data_through:  # Sigma CSVs carry no run date
            summary.run = summary.data_through[:10]
        conn.execute("CHECKPOINT")
        conn.close()
        os.replace(tmp, into)
        lap("swap")
    summary.phases = phases
    summary.total_rows = sum(t.rows for t in summary.tables.values())
    summary.seconds = round(time.perf_counter() - started, 3)
    if summary.seconds > 0:
        summary.rows_per_second = round(summary.total_rows / summary.seconds, 1)
    return summary
