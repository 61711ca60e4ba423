"""Warehouse adapters: where guarded SQL runs (embedded DuckDB, or Apache Spark over Parquet)."""
