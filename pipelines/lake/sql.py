"""Reading the lake's Parquet with DuckDB: quoting and an explicit list of files."""

from __future__ import annotations

from pathlib import Path


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def parquet_source(files: list[Path], union_by_name: bool = False) -> str:
    """A `read_parquet` call over an explicit list of files (never a glob that may match none).

    Hive partitioning is off: `snapshot_date` is read from the file, not from the
    `snapshot_date=` directory name, so a misplaced file is caught, not relabelled.
    `union_by_name` reads files of different columns (a column one lacks is null).
    """
    if not files:
        raise ValueError("parquet_source needs at least one file")
    paths = ", ".join(sql_string(f) for f in files)
    union = ", union_by_name = true" if union_by_name else ""
    return f"read_parquet([{paths}], hive_partitioning = false{union})"
