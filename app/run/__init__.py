"""The warehouse port and its engines (DuckDB, Spark), plus Parquet export."""
