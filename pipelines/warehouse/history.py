"""Schema `history`: how badges, constraints and customer lists changed across snapshots.

Type-2 tables keep one row per version of a natural key: a new version starts only when
a column other than `snapshot_date` and `fetched_on` changed, or when the key comes back
after missing from a snapshot. `valid_from` is the first snapshot of the version,
`valid_to` the first snapshot that no longer had it (null while current). Issuals and
earns are kept once per id, as last seen.

Each night applies only its own snapshot to the published history: the cost is the
snapshot's size, not the number of days kept. Every history table is stored as
`history.<t>_latest` (the latest version of every key; for issuals and earns, the ids of
the latest snapshot) and `history.<t>_earlier` (superseded versions; ids no longer
seen), which the view `history.<t>` unites, so a night rewrites only the latest part
and appends to the earlier one. A full rebuild from every snapshot in the lake
gives the same tables; it runs when there is no history yet, when the snapshot is not
newer than the history's last one (a rerun or an older backfill), or when the lake
holds a snapshot the history has not seen. Once local retention has pruned old nights,
a rebuild starts from the history base (`lake/history_base.duckdb`: the history as of
the newest pruned night) and applies the lake's later snapshots one by one, which gives
the tables a rebuild from every snapshot would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb

from pipelines.lake import Lake
from pipelines.lake.sql import quote, sql_string
from pipelines.lake.tables import TABLES, Table
from pipelines.warehouse.history_apply import (
    APPLIED,
    EVENT_TABLES,
    HISTORY_SCHEMA,
    HISTORY_TABLES,
    VERSIONED_TABLES,
    apply_events,
    apply_versioned,
    stored,
)
from pipelines.warehouse.history_rebuild import (
    create_view,
    drop_sources,
    lake_snapshot_dates,
    rebuild_from_lake,
    source_name,
    stage_snapshots,
)

BASE = "history_base_file"  # the history base, attached under this name while read


def build_history(con: duckdb.DuckDBPyConnection, lake: Lake, through: dt.date) -> dict[str, int]:
    """Brings `history` up to `through` (incrementally when it can); returns rows per table."""
    if can_apply_incrementally(con, lake, through):
        _apply_snapshot(con, through, lambda table: f"main.{quote(table.name)}")
    else:
        rebuild_history(con, lake, through)
    return {name: _count(con, name) for name in HISTORY_TABLES}


def rebuild_history(con: duckdb.DuckDBPyConnection, lake: Lake, through: dt.date) -> None:
    """(Re)builds every `history` table up to `through`: from the history base and the
    lake's later snapshots when there is a base, else from every snapshot in the lake.
    A base newer than `through` (an older backfill) is taken as it is."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {HISTORY_SCHEMA}")
    if not lake.history_base_path.exists():
        rebuild_from_lake(con, lake, through)
        return
    base_through = _load_base(con, lake)
    for day in lake_snapshot_dates(lake, "badges", through):
        if day > base_through:
            _apply_lake_snapshot(con, lake, day)


def _apply_snapshot(
    con: duckdb.DuckDBPyConnection, snapshot: dt.date, source: Callable[[Table], str]
) -> None:
    """Applies one snapshot, each table's rows read from `source(table)`."""
    for name in VERSIONED_TABLES:
        apply_versioned(con, TABLES[name], snapshot, source(TABLES[name]))
    for name, id_column in EVENT_TABLES.items():
        apply_events(con, TABLES[name], id_column, source(TABLES[name]))
    con.execute(f"INSERT INTO {APPLIED} VALUES (?)", [snapshot])


def _apply_lake_snapshot(con: duckdb.DuckDBPyConnection, lake: Lake, day: dt.date) -> None:
    try:
        for name in HISTORY_TABLES:
            stage_snapshots(con, TABLES[name], lake.table_files(name, day))
        _apply_snapshot(con, day, lambda table: f"temp.{source_name(table)}")
    finally:
        drop_sources(con)


def _load_base(con: duckdb.DuckDBPyConnection, lake: Lake) -> dt.date:
    """Copies the history base into schema `history`; returns the last snapshot it holds."""
    con.execute(f"ATTACH {sql_string(lake.history_base_path)} AS {BASE} (READ_ONLY)")
    try:
        for name in HISTORY_TABLES:
            for part in ("latest", "earlier"):
                target = stored(TABLES[name], part)
                con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {BASE}.{target}")
            create_view(con, TABLES[name])
        con.execute(f"CREATE OR REPLACE TABLE {APPLIED} AS SELECT * FROM {BASE}.{APPLIED}")
    finally:
        con.execute(f"DETACH {BASE}")
    return con.execute(f"SELECT max(snapshot_date) FROM {APPLIED}").fetchone()[0]


def applied_dates(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    """The snapshots the stored history was built from (none without a history)."""
    if not _has_applied(con):
        return []
    return [row[0] for row in con.execute(f"SELECT snapshot_date FROM {APPLIED}").fetchall()]


def _has_applied(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [HISTORY_SCHEMA, "applied_snapshots"],
    ).fetchone()
    return bool(found and found[0])


def can_apply_incrementally(con: duckdb.DuckDBPyConnection, lake: Lake, through: dt.date) -> bool:
    if not _has_applied(con) or not _columns_current(con):
        return False
    last = con.execute(f"SELECT max(snapshot_date) FROM {APPLIED}").fetchone()[0]
    if last is None or through <= last:
        return False
    unseen = [d for d in lake_snapshot_dates(lake, "badges", through) if last < d < through]
    return not unseen


def _columns_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the stored history has every contract column (a new column: rebuild)."""
    for name in HISTORY_TABLES:
        stored = _stored_name(name)
        columns = {
            row[0]
            for row in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [HISTORY_SCHEMA, stored],
            ).fetchall()
        }
        if not set(TABLES[name].column_names) - {"snapshot_date"} <= columns:
            return False
    return True


def _stored_name(name: str) -> str:
    return f"{name}_latest"


def _count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {HISTORY_SCHEMA}.{quote(name)}").fetchone()
    return int(row[0]) if row else 0
