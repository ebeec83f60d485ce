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
from pathlib import Path

import duckdb

from pipelines.lake import Lake
from pipelines.lake.sql import parquet_source, quote, sql_string
from pipelines.lake.tables import TABLES, Table
from pipelines.warehouse.ddl import create_table_sql, typed_select_list
from pipelines.warehouse.history_apply import (
    HISTORY_SCHEMA,
    apply_events,
    apply_versioned,
    attributes,
    stored,
)

VERSIONED_TABLES = ("badges", "badge_constraints", "customer_badges")
EVENT_TABLES = {"badge_issuals": "issue_id", "badge_earns": "earn_id"}
HISTORY_TABLES = (*VERSIONED_TABLES, *EVENT_TABLES)
APPLIED = f"{HISTORY_SCHEMA}.applied_snapshots"
BASE = "history_base_file"  # the history base, attached under this name while read


def lake_snapshot_dates(lake: Lake, table: str, through: dt.date) -> list[dt.date]:
    """Dates up to `through` for which the lake holds a partition of `table`."""
    return [d for d in lake.partition_dates(table) if d <= through]


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
        _rebuild_from_lake(con, lake, through)
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
            _stage_snapshots(con, lake, TABLES[name], [day])
        _apply_snapshot(con, day, lambda table: f"temp.{_source_name(table)}")
    finally:
        _drop_sources(con)


def _load_base(con: duckdb.DuckDBPyConnection, lake: Lake) -> dt.date:
    """Copies the history base into schema `history`; returns the last snapshot it holds."""
    con.execute(f"ATTACH {sql_string(lake.history_base_path)} AS {BASE} (READ_ONLY)")
    try:
        for name in HISTORY_TABLES:
            for part in ("latest", "earlier"):
                target = stored(TABLES[name], part)
                con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {BASE}.{target}")
            _create_view(con, TABLES[name])
        con.execute(f"CREATE OR REPLACE TABLE {APPLIED} AS SELECT * FROM {BASE}.{APPLIED}")
    finally:
        con.execute(f"DETACH {BASE}")
    return con.execute(f"SELECT max(snapshot_date) FROM {APPLIED}").fetchone()[0]


def _rebuild_from_lake(con: duckdb.DuckDBPyConnection, lake: Lake, through: dt.date) -> None:
    applied: set[dt.date] = set()
    for name in HISTORY_TABLES:
        table = TABLES[name]
        dates = lake_snapshot_dates(lake, table.name, through)
        applied.update(dates)
        files = [path for day in dates for path in lake.table_files(table.name, day)]
        if len(dates) == 1 and files:
            _store_one_snapshot(con, table, files)
            continue
        _stage_snapshots(con, lake, table, dates)
        try:
            if name in EVENT_TABLES:
                con.execute(_kept_once_sql(table, EVENT_TABLES[name]))
                _store_split(con, table, "last_seen_snapshot = max(last_seen_snapshot) OVER ()")
            else:
                con.execute(_versioned_sql(table, dates))
                key = ", ".join(quote(c) for c in table.key)
                _store_split(
                    con,
                    table,
                    f"row_number() OVER (PARTITION BY {key} ORDER BY version_number DESC) = 1",
                )
        finally:
            _drop_sources(con)
    con.execute(f"CREATE OR REPLACE TABLE {APPLIED} (snapshot_date DATE NOT NULL)")
    for snapshot_date in sorted(applied):
        con.execute(f"INSERT INTO {APPLIED} VALUES (?)", [snapshot_date])


def _drop_sources(con: duckdb.DuckDBPyConnection) -> None:
    # DuckDB resolves `main.<t>` to the temp catalog's `main` schema first, so a
    # leftover source table would shadow the contract table of the same name.
    for name in HISTORY_TABLES:
        con.execute(f"DROP TABLE IF EXISTS temp.{_source_name(TABLES[name])}")


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


def _source_name(table: Table) -> str:
    return f"history_source_{table.name}"


def _stage_snapshots(
    con: duckdb.DuckDBPyConnection, lake: Lake, table: Table, dates: list[dt.date]
) -> None:
    """Loads the snapshots `dates` of `table` into a typed temp table named after it."""
    files = [path for day in dates for path in lake.table_files(table.name, day)]
    con.execute(create_table_sql(table, schema="temp", name=_source_name(table)))
    if files:
        con.execute(
            f"INSERT INTO temp.{_source_name(table)} "
            f"SELECT {typed_select_list(table)} FROM {parquet_source(files)}"
        )


def _versioned_sql(table: Table, dates: list[dt.date]) -> str:
    key = ", ".join(quote(c) for c in table.key)
    columns = ", ".join(quote(c) for c in table.column_names if c != "snapshot_date")
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


def _store_split(con: duckdb.DuckDBPyConnection, table: Table, is_latest: str) -> None:
    """temp.history_rows -> `<t>_latest` (rows where `is_latest`), `<t>_earlier` (the
    others), and the view `<t>` over both."""
    for part, condition in (("latest", is_latest), ("earlier", f"NOT ({is_latest})")):
        con.execute(
            f"CREATE OR REPLACE TABLE {stored(table, part)} AS "
            f"SELECT * FROM history_rows QUALIFY {condition}"
        )
    con.execute("DROP TABLE history_rows")
    _create_view(con, table)


def _store_one_snapshot(con: duckdb.DuckDBPyConnection, table: Table, files: list[Path]) -> None:
    """The history of a single snapshot, read straight from its files: what the windows of
    `_versioned_sql` and `_kept_once_sql` would give, without them. Each key is one current
    version (keys are unique in a snapshot, a blocking check of the load), each id is seen
    once, and nothing is earlier."""
    source = f"(SELECT {typed_select_list(table)} FROM {parquet_source(files)})"
    columns = ", ".join(quote(c) for c in table.column_names if c != "snapshot_date")
    id_column = EVENT_TABLES.get(table.name)
    if id_column is None:
        key = ", ".join(quote(c) for c in table.key)
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
    _create_view(con, table)


def _create_view(con: duckdb.DuckDBPyConnection, table: Table) -> None:
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


def _kept_once_sql(table: Table, id_column: str) -> str:
    columns = ", ".join(quote(c) for c in table.column_names if c != "snapshot_date")
    return f"""
CREATE OR REPLACE TEMP TABLE history_rows AS
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
