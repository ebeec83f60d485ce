"""Loads one snapshot's Parquet into a staging copy of the warehouse.

The published `warehouse.duckdb` is never written: each load builds a fresh staging
file under `lake.staging_dir`, seeded from a copy of the published file (so schemas
such as `history` and `analytics` carry over), replaces every contract table in
schema `main` with that date's Parquet, and leaves it for `publish` to swap in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.lake import Lake
from pipelines.lake.dbfiles import read_snapshot_date, remove_database
from pipelines.lake.engine import connect, copy_in_storage_version
from pipelines.lake.failpoints import failpoint
from pipelines.lake.nightrecord import NightNote, read_night_note
from pipelines.lake.sql import parquet_source, quote
from pipelines.lake.tables import TABLES, Table
from pipelines.warehouse.ddl import create_table_sql, typed_select_list


class MissingTableDataError(FileNotFoundError):
    """A contract table has no Parquet directory for the snapshot being loaded."""


class SnapshotMismatchError(ValueError):
    """A Parquet file holds rows of another snapshot than its directory names."""


SNAPSHOT_INFO_GRAIN = "one row: the snapshot schema main holds"
SNAPSHOT_INFO_COLUMNS = {
    "snapshot_date": "Day (UTC) of the snapshot loaded into schema main.",
    "loaded_at": "When the load ran (the only wall-clock value; models never read it).",
    "customers": "Customers of the night's population (customers file plus active ones).",
    "customers_fetched": "Customers whose lists were fetched that night; the others were "
    "carried forward.",
    "rotation_nights": "N: every customer's lists are fetched at least every N nights.",
    "oldest_fetched_on": "The oldest fetched_on of any customer in the snapshot.",
    "failed_calls": "Calls that got no answer after their retries (under the gate's share).",
    "night_id": "The sealed raw archive the snapshot was loaded from (its night record's id): "
    "a rerun of the same day tells from it whether that night was published.",
    "<table>_rows": "Rows loaded into main.<table>, one column per contract table.",
}
NIGHT_COLUMNS = {
    "customers": "BIGINT",
    "customers_fetched": "BIGINT",
    "rotation_nights": "INTEGER",
    "oldest_fetched_on": "DATE",
    "failed_calls": "BIGINT",
    "night_id": "VARCHAR",
}


@dataclass(frozen=True)
class LoadReport:
    snapshot_date: dt.date
    staging_path: Path
    seeded_from_published: bool
    row_counts: dict[str, int] = field(default_factory=dict)


def staging_path(lake: Lake, snapshot_date: dt.date) -> Path:
    """The staging database file a load of `snapshot_date` builds."""
    # "warehouse.D": DuckDB names the catalog "warehouse", as for the published file.
    return lake.staging_dir / f"warehouse.{snapshot_date.isoformat()}.duckdb"


def table_files(lake: Lake, table: str, snapshot_date: dt.date) -> list[Path]:
    """The Parquet files of one contract table and date; raises when the directory is missing."""
    directory = lake.table_dir(table, snapshot_date)
    if not directory.is_dir():
        raise MissingTableDataError(
            f"no Parquet directory for table {table!r} of snapshot {snapshot_date}: {directory}"
        )
    return lake.table_files(table, snapshot_date)


def load_snapshot(lake: Lake, snapshot_date: dt.date) -> LoadReport:
    """Builds a fresh staging warehouse holding `snapshot_date` in schema `main`."""
    files_by_table = {name: table_files(lake, name, snapshot_date) for name in TABLES}
    staging = staging_path(lake, snapshot_date)
    seeded = _start_staging(lake, staging)
    with connect(lake, staging) as con:
        con.execute("BEGIN TRANSACTION")
        row_counts: dict[str, int] = {}
        for position, table in enumerate(TABLES.values()):
            if position == len(TABLES) // 2:
                failpoint("load")  # half the tables loaded, transaction still open
            row_counts[table.name] = _load_table(
                con, table, files_by_table[table.name], snapshot_date
            )
        write_snapshot_info(
            con, snapshot_date, row_counts, read_night_note(lake.raw_dir(snapshot_date))
        )
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    return LoadReport(snapshot_date, staging, seeded, row_counts)


def open_staging(lake: Lake, snapshot_date: dt.date) -> duckdb.DuckDBPyConnection:
    """A read-write connection to the staging file of `snapshot_date`.

    When there is none but the published warehouse holds that snapshot, the staging
    file is created as a copy of it (e.g. to rebuild models without reloading).
    """
    staging = staging_path(lake, snapshot_date)
    if not staging.exists():
        published = read_snapshot_date(lake.warehouse_path)
        if published != snapshot_date:
            raise FileNotFoundError(
                f"no staging warehouse for {snapshot_date} at {staging} and the published "
                f"warehouse holds {published}; load the snapshot first"
            )
        copy_in_storage_version(lake.warehouse_path, staging)
    return connect(lake, staging)


def _start_staging(lake: Lake, staging: Path) -> bool:
    remove_database(staging)
    staging.parent.mkdir(parents=True, exist_ok=True)
    if lake.warehouse_path.exists():
        copy_in_storage_version(lake.warehouse_path, staging)
        return True
    return False


def _load_table(
    con: duckdb.DuckDBPyConnection, table: Table, files: list[Path], snapshot_date: dt.date
) -> int:
    con.execute(create_table_sql(table))
    if not files:
        return 0
    target = f"main.{quote(table.name)}"
    con.execute(
        f"INSERT INTO {target} SELECT {typed_select_list(table)} FROM {parquet_source(files)}"
    )
    _check_snapshot_dates(con, target, snapshot_date)
    row = con.execute(f"SELECT count(*) FROM {target}").fetchone()
    return int(row[0]) if row else 0


def _check_snapshot_dates(
    con: duckdb.DuckDBPyConnection, target: str, snapshot_date: dt.date
) -> None:
    row = con.execute(
        f"SELECT count(*) FROM {target} WHERE snapshot_date IS DISTINCT FROM ?", [snapshot_date]
    ).fetchone()
    if row and row[0]:
        raise SnapshotMismatchError(
            f"{target}: {row[0]} rows have a snapshot_date other than {snapshot_date}"
        )


def write_snapshot_info(
    con: duckdb.DuckDBPyConnection,
    snapshot_date: dt.date,
    row_counts: dict[str, int],
    night: NightNote | None = None,
) -> None:
    """(Re)creates the one-row `main.snapshot_info`: the date, load time, the night's figures
    (null for an archive that did not record them) and rows per table."""
    count_columns = ", ".join(f"{quote(name + '_rows')} BIGINT" for name in row_counts)
    night_columns = ", ".join(f"{name} {type_}" for name, type_ in NIGHT_COLUMNS.items())
    con.execute(
        "CREATE OR REPLACE TABLE main.snapshot_info (snapshot_date DATE NOT NULL, "
        f"loaded_at TIMESTAMPTZ NOT NULL, {night_columns}, {count_columns})"
    )
    figures = [getattr(night, name) if night is not None else None for name in NIGHT_COLUMNS]
    placeholders = ", ".join("?" for _ in [*figures, *row_counts])
    con.execute(
        f"INSERT INTO main.snapshot_info VALUES (?, now(), {placeholders})",
        [snapshot_date, *figures, *row_counts.values()],
    )
