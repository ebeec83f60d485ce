"""Schema `history`: how badges, constraints and customer lists changed across snapshots.

Built from every daily snapshot in the lake up to the one being loaded, so a rebuild
of any date gives the same answer. Type-2 tables keep one row per version of a natural
key: a new version starts only when a column other than `snapshot_date` changed, or when
the key comes back after missing from a snapshot. `valid_from` is the first snapshot of
the version, `valid_to` the first snapshot that no longer had it (null while current).
Issuals and earns are kept once per id, as last seen.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipelines.lake import Lake
from pipelines.tables import TABLES, Table
from pipelines.warehouse.ddl import create_table_sql, parquet_source, quote, typed_select_list

HISTORY_SCHEMA = "history"
VERSIONED_TABLES = ("badges", "badge_constraints", "customer_badges")
EVENT_TABLES = {"badge_issuals": "issue_id", "badge_earns": "earn_id"}
_PARTITION_PREFIX = "snapshot_date="


def lake_snapshot_dates(lake: Lake, table: str, through: dt.date) -> list[dt.date]:
    """Dates up to `through` for which the lake holds a directory of `table`."""
    root = lake.lake_dir / table
    if not root.is_dir():
        return []
    dates = (
        dt.date.fromisoformat(path.name.removeprefix(_PARTITION_PREFIX))
        for path in root.iterdir()
        if path.is_dir() and path.name.startswith(_PARTITION_PREFIX) and "." not in path.name
    )
    return sorted(d for d in dates if d <= through)


def build_history(con: duckdb.DuckDBPyConnection, lake: Lake, through: dt.date) -> dict[str, int]:
    """(Re)builds every `history` table from the lake; returns rows per table."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {HISTORY_SCHEMA}")
    counts = {}
    for name in [*VERSIONED_TABLES, *EVENT_TABLES]:
        table = TABLES[name]
        dates = _stage_snapshots(con, lake, table, through)
        try:
            if name in EVENT_TABLES:
                con.execute(_kept_once_sql(table, EVENT_TABLES[name]))
            else:
                con.execute(_versioned_sql(table, dates))
        finally:
            # DuckDB resolves `main.<t>` to the temp catalog's `main` schema first, so a
            # leftover source table would shadow the contract table of the same name.
            con.execute(f"DROP TABLE IF EXISTS temp.{_source_name(table)}")
        counts[name] = _count(con, name)
    return counts


def _source_name(table: Table) -> str:
    return f"history_source_{table.name}"


def _stage_snapshots(
    con: duckdb.DuckDBPyConnection, lake: Lake, table: Table, through: dt.date
) -> list[dt.date]:
    """Loads every snapshot of `table` into a typed temp table named after it."""
    dates = lake_snapshot_dates(lake, table.name, through)
    files: list[Path] = [
        path
        for snapshot_date in dates
        for path in sorted(lake.table_dir(table.name, snapshot_date).glob("*.parquet"))
    ]
    con.execute(create_table_sql(table, schema="temp", name=_source_name(table)))
    if files:
        con.execute(
            f"INSERT INTO temp.{_source_name(table)} "
            f"SELECT {typed_select_list(table)} FROM {parquet_source(files)}"
        )
    return dates


def _versioned_sql(table: Table, dates: list[dt.date]) -> str:
    key = ", ".join(quote(c) for c in table.key)
    attributes = [c for c in table.column_names if c not in table.key and c != "snapshot_date"]
    attribute_struct = (
        "struct_pack(" + ", ".join(f"{quote(c)} := {quote(c)}" for c in attributes) + ")"
    )
    columns = ", ".join(quote(c) for c in table.column_names if c != "snapshot_date")
    date_list = ", ".join(f"DATE '{d.isoformat()}'" for d in dates) or "NULL::DATE"
    return f"""
CREATE OR REPLACE TABLE {HISTORY_SCHEMA}.{quote(table.name)} AS
WITH snapshots AS (
    SELECT snapshot_date, row_number() OVER (ORDER BY snapshot_date) AS snapshot_index
    FROM (SELECT unnest([{date_list}]) AS snapshot_date)
    WHERE snapshot_date IS NOT NULL
),
indexed AS (
    SELECT t.*, {attribute_struct} AS attributes, s.snapshot_index
    FROM temp.{_source_name(table)} AS t
    JOIN snapshots AS s ON s.snapshot_date = t.snapshot_date
),
flagged AS (
    SELECT *,
        CASE WHEN lag(attributes) OVER by_key IS NOT DISTINCT FROM attributes
              AND lag(snapshot_index) OVER by_key = snapshot_index - 1
             THEN 0 ELSE 1 END AS starts_version
    FROM indexed
    WINDOW by_key AS (PARTITION BY {key} ORDER BY snapshot_index)
),
numbered AS (
    SELECT *,
        sum(starts_version) OVER (
            PARTITION BY {key} ORDER BY snapshot_index ROWS UNBOUNDED PRECEDING
        ) AS version_number
    FROM flagged
),
spans AS (
    SELECT *, max(snapshot_index) OVER (PARTITION BY {key}, version_number) AS last_index
    FROM numbered
)
SELECT {columns},
    CAST(v.version_number AS INTEGER) AS version_number,
    v.snapshot_date AS valid_from,
    next_snapshot.snapshot_date AS valid_to,
    next_snapshot.snapshot_date IS NULL AS is_current
FROM spans AS v
LEFT JOIN snapshots AS next_snapshot ON next_snapshot.snapshot_index = v.last_index + 1
WHERE v.starts_version = 1
ORDER BY {key}, valid_from
"""


def _kept_once_sql(table: Table, id_column: str) -> str:
    columns = ", ".join(quote(c) for c in table.column_names if c != "snapshot_date")
    return f"""
CREATE OR REPLACE TABLE {HISTORY_SCHEMA}.{quote(table.name)} AS
SELECT {columns}, first_seen_snapshot, last_seen_snapshot
FROM (
    SELECT *,
        min(snapshot_date) OVER by_id AS first_seen_snapshot,
        max(snapshot_date) OVER by_id AS last_seen_snapshot,
        row_number() OVER (PARTITION BY {quote(id_column)} ORDER BY snapshot_date DESC)
            AS recency
    FROM temp.{_source_name(table)}
    WHERE {quote(id_column)} IS NOT NULL
    WINDOW by_id AS (PARTITION BY {quote(id_column)})
)
WHERE recency = 1
ORDER BY {quote(id_column)}
"""


def _count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {HISTORY_SCHEMA}.{quote(name)}").fetchone()
    return int(row[0]) if row else 0
