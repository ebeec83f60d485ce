"""A full rebuild of schema `history` from snapshots of the lake.

Over several snapshots, window functions find each key's versions (`_versioned_sql`) and
each id's first and last snapshot (`_kept_once_sql`); a single snapshot (a first load) is
stored as it is, which gives the same tables. `pipelines.warehouse.history` decides when
a rebuild runs; it also stages a lake snapshot here to apply it on top of the history base.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipelines.lake import Lake
from pipelines.lake.sql import parquet_source, quote
from pipelines.lake.tables import TABLES, Table
from pipelines.warehouse.ddl import create_table_sql, typed_select_list
from pipelines.warehouse.history_apply import (
    APPLIED,
    EVENT_TABLES,
    HISTORY_SCHEMA,
    HISTORY_TABLES,
    attributes,
    stored,
)


def lake_snapshot_dates(lake: Lake, table: str, through: dt.date) -> list[dt.date]:
    """Dates up to `through` for which the lake holds a partition of `table`."""
    return [d for d in lake.partition_dates(table) if d <= through]


def rebuild_from_lake(con: duckdb.DuckDBPyConnection, lake: Lake, through: dt.date) -> None:
    """Every `history` table from every snapshot of the lake up to `through`."""
    applied: set[dt.date] = set()
    for name in HISTORY_TABLES:
        table = TABLES[name]
        dates = lake_snapshot_dates(lake, table.name, through)
        applied.update(dates)
        files = [path for day in dates for path in lake.table_files(table.name, day)]
        if len(dates) == 1 and files:
            _store_one_snapshot(con, table, files)
            continue
        stage_snapshots(con, table, files)
        try:
            if name in EVENT_TABLES:
                con.execute(_kept_once_sql(table, EVENT_TABLES[name]))
                _store_split(con, table, "last_seen_snapshot = max(last_seen_snapshot) OVER ()")
            else:
                con.execute(_versioned_sql(table, dates))
                key = _key_list(table)
                _store_split(
                    con,
                    table,
                    f"row_number() OVER (PARTITION BY {key} ORDER BY version_number DESC) = 1",
                )
        finally:
            drop_sources(con)
    con.execute(f"CREATE OR REPLACE TABLE {APPLIED} (snapshot_date DATE NOT NULL)")
    for snapshot_date in sorted(applied):
        con.execute(f"INSERT INTO {APPLIED} VALUES (?)", [snapshot_date])


def _store_one_snapshot(con: duckdb.DuckDBPyConnection, table: Table, files: list[Path]) -> None:
    """The history of a single snapshot, read straight from its files: what the windows of
    `_versioned_sql` and `_kept_once_sql` would give, without them. Each key is one current
    version (keys are unique in a snapshot, a blocking check of the load), each id is seen
    once, and nothing is earlier."""
    source = f"(SELECT {typed_select_list(table)} FROM {parquet_source(files)})"
    columns = _history_columns(table)
    id_column = EVENT_TABLES.get(table.name)
    if id_column is None:
        key = _key_list(table)
        rows = (
            f"SELECT {columns}, CAST(1 AS INTEGER) AS version_number, snapshot_date AS "
            f"valid_from, NULL::DATE AS valid_to, true AS is_current FROM {source} ORDER BY {key}"
        )
    else:
        rows = (
            f"SELECT {columns}, snapshot_date AS first_seen_snapshot, snapshot_date AS "
            f"last_seen_snapshot FROM {source} WHERE {quote(id_column)} IS NOT NULL "
            f"ORDER BY {quote(id_column)}"
        )
    latest = stored(table, "latest")
    con.execute(f"CREATE OR REPLACE TABLE {latest} AS {rows}")
    con.execute(f"CREATE OR REPLACE TABLE {stored(table, 'earlier')} AS FROM {latest} LIMIT 0")
    create_view(con, table)


def _versioned_sql(table: Table, dates: list[dt.date]) -> str:
    key = _key_list(table)
    columns = _history_columns(table)
    date_list = ", ".join(f"DATE '{d.isoformat()}'" for d in dates) or "NULL::DATE"
    return f"""
CREATE OR REPLACE TEMP TABLE history_rows AS
WITH snapshots AS (
    SELECT snapshot_date, row_number() OVER (ORDER BY snapshot_date) AS snapshot_index
    FROM (SELECT unnest([{date_list}]) AS snapshot_date)
    WHERE snapshot_date IS NOT NULL
),
indexed AS (
    SELECT t.*, {attributes(table, "t")} AS attributes, s.snapshot_index
    FROM temp.{source_name(table)} AS t
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
    columns = _history_columns(table)
    return f"""
CREATE OR REPLACE TEMP TABLE history_rows AS
SELECT {columns}, first_seen_snapshot, last_seen_snapshot
FROM (
    SELECT *,
        min(snapshot_date) OVER by_id AS first_seen_snapshot,
        max(snapshot_date) OVER by_id AS last_seen_snapshot,
        row_number() OVER (PARTITION BY {quote(id_column)} ORDER BY snapshot_date DESC)
            AS recency
    FROM temp.{source_name(table)}
    WHERE {quote(id_column)} IS NOT NULL
    WINDOW by_id AS (PARTITION BY {quote(id_column)})
)
WHERE recency = 1
ORDER BY {quote(id_column)}
"""


def _store_split(con: duckdb.DuckDBPyConnection, table: Table, is_latest: str) -> None:
    """temp.history_rows -> `<t>_latest` (rows where `is_latest`), `<t>_earlier` (the
    others), and the view `<t>` over both."""
    for part, condition in (("latest", is_latest), ("earlier", f"NOT ({is_latest})")):
        con.execute(
            f"CREATE OR REPLACE TABLE {stored(table, part)} AS "
            f"SELECT * FROM history_rows QUALIFY {condition}"
        )
    con.execute("DROP TABLE history_rows")
    create_view(con, table)


def create_view(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """The view `history.<t>` over `<t>_earlier` and `<t>_latest`."""
    name = quote(table.name)
    kind = con.execute(  # history built before the split stored this name as a table
        "SELECT 1 FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [HISTORY_SCHEMA, table.name],
    ).fetchone()
    if kind:
        con.execute(f"DROP TABLE {HISTORY_SCHEMA}.{name}")
    con.execute(
        f"CREATE OR REPLACE VIEW {HISTORY_SCHEMA}.{name} AS "
        f"SELECT * FROM {stored(table, 'earlier')} UNION ALL "
        f"SELECT * FROM {stored(table, 'latest')}"
    )


def stage_snapshots(con: duckdb.DuckDBPyConnection, table: Table, files: list[Path]) -> None:
    """Loads `table`'s snapshot files into a typed temp table named after it."""
    con.execute(create_table_sql(table, schema="temp", name=source_name(table)))
    if files:
        con.execute(
            f"INSERT INTO temp.{source_name(table)} "
            f"SELECT {typed_select_list(table)} FROM {parquet_source(files)}"
        )


def drop_sources(con: duckdb.DuckDBPyConnection) -> None:
    # DuckDB resolves `main.<t>` to the temp catalog's `main` schema first, so a
    # leftover source table would shadow the contract table of the same name.
    for name in HISTORY_TABLES:
        con.execute(f"DROP TABLE IF EXISTS temp.{source_name(TABLES[name])}")


def source_name(table: Table) -> str:
    return f"history_source_{table.name}"


def _history_columns(table: Table) -> str:
    """The table's columns a history row keeps (all but `snapshot_date`), listed for SQL."""
    return ", ".join(quote(c) for c in table.column_names if c != "snapshot_date")


def _key_list(table: Table) -> str:
    return ", ".join(quote(c) for c in table.key)
