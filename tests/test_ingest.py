"""`data export` → `data import` round trips: each delivery layout gives the demo's tables."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from app.cli import main
from app.core.settings import Settings
from app.ingest.delivery import MARKER, find_delivery
from app.ingest.derive import content_checksum
from app.ingest.fixture import export_delivery, read_only
from app.ingest.load import import_delivery
from app.ingest.schema import IngestError, expected_columns
from app.pipeline.session import Session
from tests._warehouse_fixtures import table_checksums

ACCOUNT = "acct_demo_02"


def checksums(path: Path, account: str | None = None) -> dict[str, tuple[int, int]]:
    """(rows, sum of row hashes) per DDL table, optionally of one account's rows only."""
    where = f" WHERE merchant_id = '{account}'" if account else ""
    with read_only(path) as conn:
        out = {}
        for table in expected_columns():
            row = conn.execute(
                f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{table}" t{where}'
            ).fetchone()
            assert row is not None
            out[table] = (int(row[0]), int(row[1]))
        return out


@pytest.fixture(scope="module")
def deliveries(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("deliveries")
    export_delivery(demo_path, root / "pipeline", "data-pipeline")
    export_delivery(demo_path, root / "single", "data-pipeline", single_account=ACCOUNT)
    export_delivery(demo_path, root / "sigma", "sigma-csv")
    return {"pipeline": root / "pipeline", "single": root / "single", "sigma": root / "sigma"}


@pytest.mark.parametrize("variant", ["pipeline", "sigma"])
def test_round_trip_gives_the_demo_tables(
    variant: str, deliveries: dict[str, Path], demo_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "imported.duckdb"
    summary = import_delivery(deliveries[variant], target)
    with (
        read_only(target) as a,
        read_only(demo_path) as b,
    ):
        assert table_checksums(a) == table_checksums(b)
        assert summary.checksum == content_checksum(b)
    assert summary.total_rows == sum(n for n, _ in checksums(demo_path).values())
    assert summary.run == "2025-12-31" and summary.data_through is not None
    assert summary.warnings == [] and summary.skipped == []


def test_an_imported_warehouse_has_fresh_rollups(
    deliveries: dict[str, Path], tmp_path: Path
) -> None:
    target = tmp_path / "imported.duckdb"
    import_delivery(deliveries["pipeline"], target)
    session = Session(Settings(warehouse_path=target))
    try:
        assert session.fresh_rollups(ACCOUNT) == frozenset(session.model.rollups)
    finally:
        session.executor.close()


def test_single_account_delivery_takes_the_account_from_the_flag(
    deliveries: dict[str, Path], demo_path: Path, tmp_path: Path
) -> None:
    source = tmp_path / "d"  # without an accounts file, nothing in the delivery names it
    shutil.copytree(deliveries["single"], source)
    shutil.rmtree(source / "2025-12-31" / "livemode" / "accounts")
    target = tmp_path / "one.duckdb"
    with pytest.raises(IngestError, match="--account"):
        import_delivery(source, target)
    assert not target.exists()
    import_delivery(source, target, account=ACCOUNT)
    got, want = checksums(target), checksums(demo_path, ACCOUNT)
    assert got.pop("accounts")[0] == want.pop("accounts")[0] == 1  # derived: same account
    assert got == want
    with pytest.raises(IngestError, match=f"does not match .* import it with --account {ACCOUNT}"):
        import_delivery(deliveries["single"], target, account="acct_demo_01")


def test_single_account_delivery_takes_the_account_from_its_accounts_file(
    deliveries: dict[str, Path], demo_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "one.duckdb"
    summary = import_delivery(deliveries["single"], target)
    assert summary.account == ACCOUNT
    assert checksums(target) == checksums(demo_path, ACCOUNT)


def test_account_flag_on_a_multi_account_delivery_keeps_that_account(
    deliveries: dict[str, Path], demo_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "kept.duckdb"
    import_delivery(deliveries["pipeline"], target, account=ACCOUNT)
    assert checksums(target) == checksums(demo_path, ACCOUNT)
    before = checksums(target)
    with pytest.raises(IngestError, match="no balance transactions of account acct_nope; it has"):
        import_delivery(deliveries["pipeline"], target, account="acct_nope")
    assert checksums(target) == before


def test_same_delivery_twice_gives_the_same_checksum(
    deliveries: dict[str, Path], tmp_path: Path
) -> None:
    target = tmp_path / "w.duckdb"
    first = import_delivery(deliveries["pipeline"], target)
    second = import_delivery(deliveries["pipeline"], target)
    assert first.checksum == second.checksum
    assert [p.name for p in tmp_path.iterdir()] == ["w.duckdb"]  # no temporary file left
    link = tmp_path / "link.duckdb"
    link.symlink_to(tmp_path / "w.duckdb")
    import_delivery(deliveries["pipeline"], link)  # imports into the file the link names
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == [
        "link.duckdb",
        "w.duckdb",
    ]


def test_latest_complete_run_is_chosen_and_refresh_replaces(
    deliveries: dict[str, Path], demo_path: Path, tmp_path: Path
) -> None:
    source = tmp_path / "bucket"
    shutil.copytree(deliveries["single"] / "2025-12-31", source / "2025-12-30")
    target = tmp_path / "w.duckdb"
    assert import_delivery(source, target, account=ACCOUNT).run == "2025-12-30"
    # A newer run still being written (no marker) is not read; once complete, refresh takes it.
    shutil.copytree(deliveries["pipeline"] / "2025-12-31", source / "2025-12-31")
    (source / "2025-12-31" / "livemode" / MARKER).unlink()
    assert find_delivery(str(source)).run == "2025-12-30"
    (source / "2025-12-31" / "livemode" / MARKER).touch()
    refreshed = import_delivery(source, target)
    assert refreshed.run == "2025-12-31"
    assert checksums(target) == checksums(demo_path)
    # A named delivery: the run folder itself.
    assert import_delivery(source / "2025-12-30", target, account=ACCOUNT).run == "2025-12-30"


def test_test_mode_and_mode_above_date_layout(deliveries: dict[str, Path], tmp_path: Path) -> None:
    source = tmp_path / "bucket"
    run = deliveries["single"] / "2025-12-31" / "livemode"
    shutil.copytree(run, source / "testmode" / "20251231")
    with pytest.raises(IngestError, match="--mode test"):
        find_delivery(str(source))
    found = find_delivery(str(source), "test")
    assert (found.run, found.mode, len(found.tables)) == ("20251231", "test", 28)


def test_converting_types_keep_exact_values_and_utc(
    deliveries: dict[str, Path], demo_path: Path, tmp_path: Path
) -> None:
    """Timestamps with a time zone become naive UTC; narrower integers widen; extras dropped."""
    source = tmp_path / "d"
    shutil.copytree(deliveries["pipeline"], source)
    path = source / "2025-12-31" / "livemode" / "charges" / "part-00000.parquet"
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'America/New_York'")
        conn.execute(
            "COPY (SELECT * REPLACE (timezone('UTC', created) AS created, "
            "CAST(amount AS INTEGER) AS amount), 'x' AS shipping_carrier "
            f"FROM read_parquet('{path}')) TO '{path}.new' (FORMAT parquet)"
        )
        described = conn.execute(
            f"DESCRIBE SELECT created, amount FROM read_parquet('{path}.new')"
        ).fetchall()
    assert [r[1] for r in described] == ["TIMESTAMP WITH TIME ZONE", "INTEGER"]
    Path(f"{path}.new").replace(path)
    summary = import_delivery(source, tmp_path / "w.duckdb")
    assert summary.tables["charges"].dropped_columns == ["shipping_carrier"]
    assert checksums(tmp_path / "w.duckdb") == checksums(demo_path)


def test_table_split_over_files_in_subfolders(
    deliveries: dict[str, Path], demo_path: Path, tmp_path: Path
) -> None:
    """Several part files per table, nested folders, columns in another order: same contents."""
    source = tmp_path / "d"
    shutil.copytree(deliveries["pipeline"], source)
    folder = source / "2025-12-31" / "livemode" / "charges"
    whole = folder / "part-00000.parquet"
    with duckdb.connect() as conn:
        for i, account in enumerate(("acct_demo_01", "acct_demo_02", "acct_demo_03")):
            (folder / f"merchant={i}").mkdir()
            order = "SELECT * EXCLUDE (id), id" if i else "SELECT *"
            conn.execute(
                f"COPY ({order} FROM read_parquet('{whole}') WHERE merchant_id = '{account}') "
                f"TO '{folder / f'merchant={i}' / 'part-0.parquet'}' (FORMAT parquet)"
            )
    whole.unlink()
    summary = import_delivery(source, tmp_path / "w.duckdb")
    assert checksums(tmp_path / "w.duckdb") == checksums(demo_path)
    assert summary.tables["charges"].rows == checksums(demo_path)["charges"][0]


def test_missing_accounts_table_is_derived_and_said(
    deliveries: dict[str, Path], tmp_path: Path
) -> None:
    source = tmp_path / "d"
    shutil.copytree(deliveries["pipeline"], source)
    shutil.rmtree(source / "2025-12-31" / "livemode" / "accounts")
    (source / "2025-12-31" / "livemode" / "payment_links").mkdir()
    shutil.copy(
        source / "2025-12-31" / "livemode" / "coupons" / "part-00000.parquet",
        source / "2025-12-31" / "livemode" / "payment_links",
    )
    summary = import_delivery(source, tmp_path / "w.duckdb")
    assert summary.skipped == ["payment_links"]
    assert any("time zone: UTC" in w for w in summary.warnings)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        rows = conn.execute(
            "SELECT id, default_currency, settings_dashboard_timezone FROM accounts ORDER BY 1"
        ).fetchall()
    assert rows == [
        ("acct_demo_01", "usd", "UTC"),
        ("acct_demo_02", "eur", "UTC"),
        ("acct_demo_03", "gbp", "UTC"),
    ]


def test_cli_export_and_import_json(demo_path: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "csv"
    export = ["data", "export", "--format", "sigma-csv", "--warehouse", str(demo_path), str(out)]
    assert main(export) == 0
    assert (out / "charges.csv").read_text().startswith("merchant_id,id,")
    capsys.readouterr()
    target = tmp_path / "w.duckdb"
    assert main(["data", "import", str(out), "--into", str(target), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["kind"] == "sigma-csv"
    assert report["tables"]["charges"]["rows"] > 0
    assert report["tables"]["charges"]["rows_per_second"] > 0
