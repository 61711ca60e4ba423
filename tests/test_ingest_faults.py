"""A damaged or incomplete delivery, or a killed import, leaves the previous warehouse answering."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from app.cli import main
from app.core.settings import Settings
from app.ingest.delivery import MARKER
from app.ingest.fixture import export_delivery
from app.ingest.load import import_delivery
from app.ingest.schema import IngestError
from app.run.duckdb import Executor
from tests.test_ingest import ACCOUNT, checksums

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def good(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("good") / "delivery"
    export_delivery(demo_path, out, "data-pipeline")
    return out


@pytest.fixture
def setup(good: Path, demo_path: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A copy of the good delivery to damage, and a warehouse imported from a single account."""
    source = tmp_path / "delivery"
    shutil.copytree(good, source)
    single = tmp_path / "single"
    export_delivery(demo_path, single, "data-pipeline", single_account=ACCOUNT)
    target = tmp_path / "w.duckdb"
    import_delivery(single, target, account=ACCOUNT)
    return source, target, source / "2025-12-31" / "livemode"


def answers(target: Path) -> datetime | None:
    """What the app shows as freshness, read through the query path's executor."""
    with Executor(target, Settings(warehouse_path=target)) as ex:
        return ex.freshness(ACCOUNT)


def rewrite(folder: Path, table: str, select: str) -> Path:
    """Replace a table's Parquet file by the result of `select` over it."""
    path = folder / table / "part-00000.parquet"
    tmp = path.with_suffix(".tmp")
    query = select.format(f=f"read_parquet('{path}')")
    with duckdb.connect() as conn:
        conn.execute(f"COPY ({query}) TO '{tmp}' (FORMAT parquet)")
    tmp.replace(path)
    return path


def fails_and_keeps(source: Path, target: Path, match: str, capsys) -> str:  # type: ignore[no-untyped-def]
    before, fresh = checksums(target), answers(target)
    with pytest.raises(IngestError, match=match):
        import_delivery(source, target)
    capsys.readouterr()
    assert main(["data", "import", str(source), "--into", str(target)]) == 2
    message = capsys.readouterr().err
    assert checksums(target) == before and answers(target) == fresh is not None
    assert [p.name for p in target.parent.glob(".w.duckdb*")] == []
    return message


def test_truncated_parquet(setup, capsys) -> None:  # type: ignore[no-untyped-def]
    source, target, folder = setup
    path = folder / "charges" / "part-00000.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    message = fails_and_keeps(source, target, "not a readable Parquet file", capsys)
    assert str(path) in message and "download the delivery again" in message


def test_missing_column(setup, capsys) -> None:  # type: ignore[no-untyped-def]
    source, target, folder = setup
    path = rewrite(folder, "charges", "SELECT * EXCLUDE (amount_refunded) FROM {f}")
    message = fails_and_keeps(source, target, r"charges\.amount_refunded is missing", capsys)
    assert "expected BIGINT" in message and str(path) in message


def test_wrong_type(setup, capsys) -> None:  # type: ignore[no-untyped-def]
    source, target, folder = setup
    rewrite(folder, "balance_transactions", "SELECT * REPLACE (amount / 100.0 AS amount) FROM {f}")
    message = fails_and_keeps(source, target, r"balance_transactions\.amount has type", capsys)
    assert "has type DOUBLE, expected BIGINT" in message


def test_missing_success_marker(setup, capsys) -> None:  # type: ignore[no-untyped-def]
    source, target, folder = setup
    (folder / MARKER).unlink()
    message = fails_and_keeps(source, target, MARKER, capsys)
    assert "incomplete" in message


class _Offline:
    """A DuckDB connection that cannot download extensions, as on a machine without network."""

    def execute(self, sql: str) -> None:
        raise duckdb.IOException(f'Failed to download extension "httpfs" for {sql!r}')

    def close(self) -> None:
        pass


def test_remote_source_without_httpfs(setup, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    _, target, _ = setup
    before = checksums(target)
    with monkeypatch.context() as patch:
        patch.setattr(duckdb, "connect", lambda *a, **k: _Offline())
        assert main(["data", "import", "s3://bucket/stripe/", "--into", str(target)]) == 2
    message = capsys.readouterr().err
    assert "httpfs extension, which did not load" in message and "aws s3 sync" in message
    assert checksums(target) == before


def test_books_that_do_not_balance(setup, capsys) -> None:  # type: ignore[no-untyped-def]
    source, target, folder = setup
    rewrite(folder, "balance_transactions", "SELECT * REPLACE (net + 1 AS net) FROM {f}")
    message = fails_and_keeps(source, target, "do not balance", capsys)
    assert "net is not amount - fee" in message


def test_sigma_csv_value_that_does_not_convert(setup, demo_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _, target, _ = setup
    csv = target.parent / "csv"
    export_delivery(demo_path, csv, "sigma-csv")
    charges = csv / "charges.csv"
    lines = charges.read_text().splitlines()
    head = lines[0].split(",")
    row = lines[1].split(",")
    row[head.index("amount")] = "12.50"
    charges.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n")
    message = fails_and_keeps(csv, target, r"charges\.amount has type text such as '12.50'", capsys)
    assert str(charges) in message


CHILD = """
import sys, time
from pathlib import Path
from app.ingest.load import import_delivery
def stall(table, rows, seconds):
    Path(sys.argv[3]).write_text(table)
    time.sleep(3600)
import_delivery(sys.argv[1], Path(sys.argv[2]), on_table=stall)
"""


def test_killed_import_leaves_the_old_warehouse(setup) -> None:  # type: ignore[no-untyped-def]
    source, target, _ = setup
    before, fresh = checksums(target), answers(target)
    loaded = target.parent / "loaded-one-table"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(source), str(target), str(loaded)], cwd=ROOT
    )
    try:
        for _ in range(1200):  # waits for an event (the first table loaded), not for a time
            if loaded.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert loaded.exists(), "the import never loaded a table"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    leftovers = list(target.parent.glob(".w.duckdb.importing-*"))
    assert leftovers, "the killed import was mid-way: its temporary file is still there"
    assert checksums(target) == before and answers(target) == fresh
    import_delivery(source, target)  # the next import cleans up and succeeds
    assert not [p for p in leftovers if p.exists()]
    assert checksums(target) != before
