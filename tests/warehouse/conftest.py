"""Shared helpers: a lake in tmp_path and Parquet snapshots written from plain rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.lake import Lake
from pipelines.lake.tables import TABLES

Rows = dict[str, list[dict]]
WriteSnapshot = Callable[[dt.date, Rows], None]


def write_table(lake: Lake, table_name: str, snapshot_date: dt.date, rows: list[dict]) -> Path:
    """Writes one table's rows as the normalizer would: contract schema, one file."""
    table = TABLES[table_name]
    for row in rows:
        unknown = set(row) - set(table.column_names)
        assert not unknown, f"{table_name} has no columns {unknown}"
    complete = [
        {name: row.get(name) for name in table.column_names} | {"snapshot_date": snapshot_date}
        for row in rows
    ]
    directory = lake.table_dir(table_name, snapshot_date)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "part-0.parquet"
    pq.write_table(
        pa.Table.from_pylist(complete, schema=table.arrow_schema).cast(table.file_schema), path
    )
    return path


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "data")


@pytest.fixture
def write_snapshot(lake: Lake) -> WriteSnapshot:
    """Writes every contract table of a snapshot; tables not given get zero rows."""

    def write(snapshot_date: dt.date, rows: Rows) -> None:
        unknown = set(rows) - set(TABLES)
        assert not unknown, f"not contract tables: {unknown}"
        for name in TABLES:
            write_table(lake, name, snapshot_date, rows.get(name, []))

    return write
