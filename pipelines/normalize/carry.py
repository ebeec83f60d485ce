"""Carrying customers not fetched tonight forward: their rows of the last snapshot, kept.

With rotation over several nights (see `pipelines.extract.rotation`) a night fetches
only some customers' lists. Every customer-level table of the new snapshot then gets,
for each customer of the night's population that was not fetched, its rows of the
snapshot it was carried from, with `snapshot_date` set to tonight and `fetched_on` kept,
in a file of its own beside the normalized ones (`carried.parquet`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.lake import Lake
from pipelines.lake.durable import write_parquet
from pipelines.lake.nightrecord import carried_customers, read_night_note
from pipelines.lake.sql import parquet_source, quote
from pipelines.lake.tables import CUSTOMER_TABLES, Table

CARRIED_FILE = "carried.parquet"


class CarryForwardError(RuntimeError):
    """Customers are to be carried forward, but the snapshot they come from is missing."""


@dataclass(frozen=True)
class CarryForward:
    carried_from: dt.date  # the snapshot the rows come from
    customers: pa.Table  # the customers carried: customer_id, identifier_type


def carry_forward_of(raw_dir: Path) -> CarryForward | None:
    """What an archived night carried forward, or None when it fetched everyone."""
    note = read_night_note(raw_dir)
    if note is None or note.carried_from is None or note.carried == 0:
        return None
    return CarryForward(dt.date.fromisoformat(note.carried_from), carried_customers(raw_dir))


def carry_rows(
    lake: Lake, snapshot_date: dt.date, carry: CarryForward, temp_dirs: dict[str, Path]
) -> dict[str, int]:
    """Writes each customer table's carried rows into its temp dir; returns rows per table."""
    rows = {}
    with duckdb.connect() as con:
        con.register("carried", carry.customers)
        for table in CUSTOMER_TABLES:
            source = lake.table_dir(table.name, carry.carried_from)
            if not source.is_dir():
                raise CarryForwardError(
                    f"cannot carry customers forward into {snapshot_date}: no partition of "
                    f"{table.name} for {carry.carried_from} at {source}"
                )
            files = lake.table_files(table.name, carry.carried_from)
            rows[table.name] = (
                _copy(con, table, files, snapshot_date, carry, temp_dirs[table.name])
                if files
                else 0
            )
    return rows


def _copy(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    files: list[Path],
    snapshot_date: dt.date,
    carry: CarryForward,
    temp_dir: Path,
) -> int:
    present = {
        row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {parquet_source(files)}").fetchall()
    }
    columns = ", ".join(_column(name, present, snapshot_date, carry) for name in table.column_names)
    reader = con.sql(
        f"SELECT {columns} FROM {parquet_source(files)} AS t "
        "SEMI JOIN carried USING (customer_id, identifier_type)"
    ).to_arrow_reader()
    return write_parquet(reader, temp_dir / CARRIED_FILE, table.file_schema, skip_empty=True)


def _column(name: str, present: set[str], snapshot_date: dt.date, carry: CarryForward) -> str:
    if name == "snapshot_date":
        return f"DATE '{snapshot_date.isoformat()}' AS snapshot_date"
    if name == "fetched_on":  # snapshots from before rotation were fetched whole
        fallback = f"DATE '{carry.carried_from.isoformat()}'"
        value = f"coalesce(t.fetched_on, {fallback})" if name in present else fallback
        return f"{value} AS fetched_on"
    return f"t.{quote(name)}" if name in present else f"NULL AS {quote(name)}"
