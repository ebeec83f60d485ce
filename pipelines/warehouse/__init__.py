"""The DuckDB warehouse: loading snapshots, publishing atomically, SQL models, checks."""
