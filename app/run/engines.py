"""The engines a warehouse can run on, by the name the `engine` setting uses."""

from __future__ import annotations

from collections.abc import Callable

from app.core.settings import Settings
from app.run.duckdb import open_duckdb_warehouse
from app.run.warehouse import Warehouse


def _open_spark(settings: Settings) -> Warehouse:
    from app.run.spark import open_spark_warehouse  # pyspark is imported only when asked for

    return open_spark_warehouse(settings)


# Keyed by `app.core.settings.EngineName` (tests/test_warehouses.py checks they agree).
ENGINES: dict[str, Callable[[Settings], Warehouse]] = {
    "duckdb": open_duckdb_warehouse,
    "spark": _open_spark,
}


def open_warehouse(settings: Settings) -> Warehouse:
    """The warehouse named by the `engine` setting (DuckDB, or Spark over `parquet_dir`)."""
    return ENGINES[settings.engine](settings)
