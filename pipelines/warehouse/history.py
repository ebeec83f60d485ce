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
holds a snapshot the history has not seen.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.lake import Lake
from pipelines.lake.sql import parquet_source, quote
from pipelines.lake.tables import TABLES, Table
from pipelines.warehouse.ddl import create_table_sql, typed_select_list

HISTORY_SCHEMA = "history"
VERSIONED_TABLES = ("badges", "badge_constraints", "customer_badges")
EVENT_TABLES = {"badge_issuals": "issue_id", "badge_earns": "earn_id"}
APPLIED = f"{HISTORY_SCHEMA}.applied_snapshots"
NOT_ATTRIBUTES = ("snapshot_date", "fetched_on")  # change with every fetch, not with the data


def lake_snapshot_dates(lake: Lake, table: str, through: dt.date) -> list[dt.date]:
    """Dates up to `through` for which the lake holds a partition of `table`."""
    return [d for d in lake.partition_dates(table) if d <= through]


def build_history(con: duckdb.DuckDBPyConnection, lake: Lake, through: dt.date) -> dict[str, int]:
    """Brings `history` up to `through` (incrementally when it can); returns rows per table."""
    if can_apply_incrementally(con, lake, through):
        for name in VERSIONED_TABLES:
            _apply_versioned(con, TABLES[name], through)
        for name, id_column in EVENT_TABLES.items():
            _apply_events(con, TABLES[name], id_column)
        con.execute(f"INSERT INTO {APPLIED} VALUES (?)", [through])
    else:
        rebuild_history(con, lake, through)
    return {name: _count(con, name) for name in [*VERSIONED_TABLES, *EVENT_TABLES]}


def rebuild_history(con: duckdb.DuckDBPyConnection, lake: Lake, through: dt.date) -> None:
    """(Re)builds every `history` table from all snapshots in the lake up to `through`."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {HISTORY_SCHEMA}")
    applied: set[dt.date] = set()
    for name in [*VERSIONED_TABLES, *EVENT_TABLES]:
        table = TABLES[name]
        dates = _stage_snapshots(con, lake, table, through)
        applied.update(dates)
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
            # DuckDB resolves `main.<t>` to the temp catalog's `main` schema first, so a
            # leftover source table would shadow the contract table of the same name.
            con.execute(f"DROP TABLE IF EXISTS temp.{_source_name(table)}")
    con.execute(f"CREATE OR REPLACE TABLE {APPLIED} (snapshot_date DATE NOT NULL)")
    for snapshot_date in sorted(applied):
        con.execute(f"INSERT INTO {APPLIED} VALUES (?)", [snapshot_date])


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
    for name in [*VERSIONED_TABLES, *EVENT_TABLES]:
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
    con: duckdb.DuckDBPyConnection, lake: Lake, table: Table, through: dt.date
) -> list[dt.date]:
    """Loads every snapshot of `table` into a typed temp table named after it."""
    dates = lake_snapshot_dates(lake, table.name, through)
    files = [path for day in dates for path in lake.table_files(table.name, day)]
    con.execute(create_table_sql(table, schema="temp", name=_source_name(table)))
    if files:
        con.execute(
            f"INSERT INTO temp.{_source_name(table)} "
            f"SELECT {typed_select_list(table)} FROM {parquet_source(files)}"
        )
    return dates


def _attributes(table: Table, alias: str) -> str:
    names = [c for c in table.column_names if c not in table.key and c not in NOT_ATTRIBUTES]
    return "struct_pack(" + ", ".join(f"{quote(c)} := {alias}.{quote(c)}" for c in names) + ")"


def _same_key(table: Table, left: str, right: str) -> str:
    return " AND ".join(
        f"{left}.{quote(c)} IS NOT DISTINCT FROM {right}.{quote(c)}" for c in table.key
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
    SELECT t.*, {_attributes(table, "t")} AS attributes, s.snapshot_index
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
    name = quote(table.name)
    for suffix, condition in (("latest", is_latest), ("earlier", f"NOT ({is_latest})")):
        con.execute(
            f"CREATE OR REPLACE TABLE {HISTORY_SCHEMA}.{quote(table.name + '_' + suffix)} AS "
            f"SELECT * FROM history_rows QUALIFY {condition}"
        )
    kind = con.execute(  # history built before the split stored this name as a table
        "SELECT 1 FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [HISTORY_SCHEMA, table.name],
    ).fetchone()
    if kind:
        con.execute(f"DROP TABLE {HISTORY_SCHEMA}.{name}")
    con.execute(
        f"CREATE OR REPLACE VIEW {HISTORY_SCHEMA}.{name} AS "
        f"SELECT * FROM {HISTORY_SCHEMA}.{quote(table.name + '_earlier')} UNION ALL "
        f"SELECT * FROM {HISTORY_SCHEMA}.{quote(table.name + '_latest')}"
    )
    con.execute("DROP TABLE history_rows")


def _apply_versioned(con: duckdb.DuckDBPyConnection, table: Table, snapshot: dt.date) -> None:
    """Applies main.<t> (the snapshot `snapshot`) to the stored versions of `table`."""
    latest = f"{HISTORY_SCHEMA}.{quote(table.name + '_latest')}"
    earlier = f"{HISTORY_SCHEMA}.{quote(table.name + '_earlier')}"
    columns = [c for c in table.column_names if c != "snapshot_date"]
    listed = ", ".join(quote(c) for c in columns)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE incoming AS SELECT {listed}, "
        f"{_attributes(table, 'm')} AS attributes FROM main.{quote(table.name)} AS m"
    )
    con.execute(  # versions that ended: their key is gone or its attributes changed
        f"""UPDATE {latest} AS h SET valid_to = ?, is_current = false
            WHERE h.is_current AND NOT EXISTS (
                SELECT 1 FROM incoming AS i WHERE {_same_key(table, "i", "h")}
                AND i.attributes IS NOT DISTINCT FROM {_attributes(table, "h")})""",
        [snapshot],
    )
    con.execute(  # rows that do not continue an open version start a new one
        f"""CREATE OR REPLACE TEMP TABLE starting AS
            SELECT i.*, coalesce(h.version_number, 0) + 1 AS version_number
            FROM incoming AS i LEFT JOIN {latest} AS h ON {_same_key(table, "i", "h")}
            WHERE h.is_current IS NOT TRUE"""
    )
    superseded = f"EXISTS (SELECT 1 FROM starting AS s WHERE {_same_key(table, 's', 'h')})"
    con.execute(f"INSERT INTO {earlier} SELECT * FROM {latest} AS h WHERE {superseded}")
    con.execute(f"DELETE FROM {latest} AS h WHERE {superseded}")
    con.execute(
        f"INSERT INTO {latest} SELECT {listed}, CAST(version_number AS INTEGER), "
        "?::DATE, NULL::DATE, true FROM starting",
        [snapshot],
    )
    con.execute("DROP TABLE incoming; DROP TABLE starting")


def _apply_events(con: duckdb.DuckDBPyConnection, table: Table, id_column: str) -> None:
    """Ids the snapshot no longer has move to `<t>_earlier`; `<t>_latest` becomes the
    snapshot's rows as seen tonight, each keeping the snapshot it was first seen in."""
    latest = f"{HISTORY_SCHEMA}.{quote(table.name + '_latest')}"
    earlier = f"{HISTORY_SCHEMA}.{quote(table.name + '_earlier')}"
    snapshot, key = f"main.{quote(table.name)}", quote(id_column)
    columns = ", ".join(f"n.{quote(c)}" for c in table.column_names if c != "snapshot_date")
    con.execute(
        f"INSERT INTO {earlier} SELECT * FROM {latest} AS h "
        f"WHERE NOT EXISTS (SELECT 1 FROM {snapshot} AS n WHERE n.{key} = h.{key})"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE incoming AS
            SELECT {columns},
                coalesce(l.first_seen_snapshot, e.first_seen_snapshot, n.snapshot_date)
                    AS first_seen_snapshot,
                n.snapshot_date AS last_seen_snapshot
            FROM {snapshot} AS n
            LEFT JOIN {latest} AS l ON l.{key} = n.{key}
            LEFT JOIN {earlier} AS e ON e.{key} = n.{key}
            WHERE n.{key} IS NOT NULL"""
    )
    con.execute(  # an id back after missing from some snapshots
        f"DELETE FROM {earlier} AS e WHERE EXISTS (SELECT 1 FROM incoming AS i "
        f"WHERE i.{key} = e.{key})"
    )
    con.execute(f"CREATE OR REPLACE TABLE {latest} AS SELECT * FROM incoming")
    con.execute("DROP TABLE incoming")


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
