"""The app keeps answering during an import and picks up the swapped-in file without a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.settings import Settings
from app.ingest.fixture import export_delivery
from app.ingest.load import import_delivery
from app.pipeline.session import Session
from app.run.duckdb import DuckDBWarehouse, Executor
from app.semantic.catalog import warehouse_tables
from app.sql.guard.checks import Policy, check_sql
from tests.test_ingest import ACCOUNT

ACCOUNTS = "SELECT count(DISTINCT merchant_id) FROM balance_transactions"


def accounts_seen(executor: Executor) -> int:
    guarded = check_sql(ACCOUNTS, Policy(account=None, tables=warehouse_tables(), max_rows=5))
    return int(executor.run(guarded).rows[0][0])


@pytest.fixture(scope="module")
def exports(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pickup")
    export_delivery(demo_path, root / "one", "data-pipeline", single_account=ACCOUNT)
    export_delivery(demo_path, root / "all", "data-pipeline")
    return root / "one", root / "all"


def test_executor_follows_a_swapped_file(exports: tuple[Path, Path], tmp_path: Path) -> None:
    one, everything = exports
    target = tmp_path / "w.duckdb"
    import_delivery(one, target, account=ACCOUNT)
    with Executor(target, Settings(warehouse_path=target)) as ex:
        assert (accounts_seen(ex), ex.generation) == (1, 0)
        import_delivery(everything, target)  # the open connection still reads the old file
        assert accounts_seen(ex) == 3
        assert ex.generation == 1
        assert accounts_seen(ex) == 3 and ex.generation == 1  # same file: no reopen


def test_failed_import_changes_nothing_for_an_open_executor(
    exports: tuple[Path, Path], tmp_path: Path
) -> None:
    one, _ = exports
    target = tmp_path / "w.duckdb"
    import_delivery(one, target, account=ACCOUNT)
    with Executor(target, Settings(warehouse_path=target)) as ex:
        assert accounts_seen(ex) == 1
        with pytest.raises(Exception, match="--account"):
            import_delivery(one, target, account="acct_not_in_the_delivery")
        assert (accounts_seen(ex), ex.generation) == (1, 0)


def test_session_drops_cached_lookups_on_a_new_file(
    exports: tuple[Path, Path], tmp_path: Path
) -> None:
    one, everything = exports
    target = tmp_path / "w.duckdb"
    import_delivery(one, target, account=ACCOUNT)
    settings = Settings(warehouse_path=target)
    session = Session(settings, DuckDBWarehouse(Executor(target, settings)))
    try:
        assert session.account_info("acct_demo_01") is None
        fresh_one = session.freshness("acct_demo_01")
        assert fresh_one is None
        import_delivery(everything, target)
        info = session.account_info("acct_demo_01")
        assert info is not None and info.timezone == "America/New_York"
        assert session.freshness("acct_demo_01") is not None
    finally:
        session.close()
