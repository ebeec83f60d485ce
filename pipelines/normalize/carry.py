"""Carrying customers not fetched tonight forward: their rows of the last snapshot, kept.

With rotation over several nights (see `pipelines.extract.rotation`) a night fetches
only some customers' lists. Every customer-level table of the new snapshot then gets,
for each customer of the night's population that was not fetched, its rows of the
snapshot it was carried from, with `snapshot_date` set to tonight and `fetched_on` kept,
in a file of its own beside the normalized ones (`carried.parquet`). Their badge-level
constraint rows are tonight's where the badge has a detail of tonight (see `badge_level`).
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
from pipelines.lake.tables import CUSTOMER_BADGE_CONSTRAINTS, CUSTOMER_TABLES, Table
from pipelines.normalize.badge_level import PAIR_COLUMNS, BadgeLevelRows
from pipelines.normalize.constraints import BADGE_LEVEL

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
    lake: Lake,
    snapshot_date: dt.date,
    carry: CarryForward,
    temp_dirs: dict[str, Path],
    badge_level: BadgeLevelRows | None = None,
) -> dict[str, int]:
    """Writes each customer table's carried rows into its temp dir; returns rows per table.
    With `badge_level`, carried badge-level constraint rows are tonight's (see badge_level)."""
    rows = {}
    with duckdb.connect() as con:
        con.register("carried", carry.customers)
        if badge_level is not None:
            con.register("fresh_badges", badge_level.badges())
            con.register("fresh_badge_rows", badge_level.rows())
        for table in CUSTOMER_TABLES:
            source = lake.table_dir(table.name, carry.carried_from)
            if not source.is_dir():
                raise CarryForwardError(
                    f"cannot carry customers forward into {snapshot_date}: no partition of "
                    f"{table.name} for {carry.carried_from} at {source}"
                )
            files = lake.table_files(table.name, carry.carried_from)
            fresh = badge_level is not None and table is CUSTOMER_BADGE_CONSTRAINTS
            rows[table.name] = (
                _copy(con, table, files, snapshot_date, carry, temp_dirs[table.name], fresh)
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
    fresh_badge_level: bool = False,
) -> int:
    present = {
        row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {parquet_source(files)}").fetchall()
    }
    columns = ", ".join(_column(name, present, snapshot_date, carry) for name in table.column_names)
    query = (
        f"SELECT {columns} FROM {parquet_source(files)} AS t "
        "SEMI JOIN carried USING (customer_id, identifier_type)"
    )
    if fresh_badge_level:
        query = _with_fresh_badge_level(query, table)
    reader = con.sql(query).to_arrow_reader()
    return write_parquet(reader, temp_dir / CARRIED_FILE, table.file_schema, skip_empty=True)


def _with_fresh_badge_level(carried_rows: str, table: Table) -> str:
    """The carried constraint rows with each badge-level row of a badge fetched tonight
    replaced by tonight's (registered as fresh_badges and fresh_badge_rows)."""
    pair = ", ".join(PAIR_COLUMNS)
    columns = ", ".join(
        f"p.{quote(name)}" if name in PAIR_COLUMNS else f"f.{quote(name)}"
        for name in table.column_names
    )
    return f"""WITH carried_rows AS ({carried_rows})
        SELECT * FROM carried_rows
        WHERE constraint_level IS DISTINCT FROM '{BADGE_LEVEL}'
           OR badge_id NOT IN (SELECT badge_id FROM fresh_badges)
        UNION ALL
        SELECT {columns}
        FROM (SELECT DISTINCT {pair} FROM carried_rows) AS p
        JOIN fresh_badge_rows AS f USING (badge_id)"""


def _column(name: str, present: set[str], snapshot_date: dt.date, carry: CarryForward) -> str:
    if name == "snapshot_date":
        return f"DATE '{snapshot_date.isoformat()}' AS snapshot_date"
    if name == "fetched_on":  # snapshots from before rotation were fetched whole
        fallback = f"DATE '{carry.carried_from.isoformat()}'"
        value = f"coalesce(t.fetched_on, {fallback})" if name in present else fallback
        return f"{value} AS fetched_on"
    return f"t.{quote(name)}" if name in present else f"NULL AS {quote(name)}"
