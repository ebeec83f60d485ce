"""Applying one snapshot to the stored history: the nightly step, and a rebuild's steps
after the history base.

`source` is the relation holding the snapshot's rows of a table: `main.<t>` for the
night being loaded, or a snapshot of the lake staged in a temp table.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.lake.sql import quote
from pipelines.lake.tables import Table

HISTORY_SCHEMA = "history"
VERSIONED_TABLES = ("badges", "badge_constraints", "customer_badges")
EVENT_TABLES = {"badge_issuals": "issue_id", "badge_earns": "earn_id"}
HISTORY_TABLES = (*VERSIONED_TABLES, *EVENT_TABLES)
APPLIED = f"{HISTORY_SCHEMA}.applied_snapshots"
NOT_ATTRIBUTES = ("snapshot_date", "fetched_on")  # change with every fetch, not with the data


def stored(table: Table, part: str) -> str:
    """`history.<t>_latest` or `history.<t>_earlier`."""
    return f"{HISTORY_SCHEMA}.{quote(table.name + '_' + part)}"


def attributes(table: Table, alias: str) -> str:
    names = [c for c in table.column_names if c not in table.key and c not in NOT_ATTRIBUTES]
    return "struct_pack(" + ", ".join(f"{quote(c)} := {alias}.{quote(c)}" for c in names) + ")"


def same_key(table: Table, left: str, right: str) -> str:
    return " AND ".join(
        f"{left}.{quote(c)} IS NOT DISTINCT FROM {right}.{quote(c)}" for c in table.key
    )


def apply_versioned(
    con: duckdb.DuckDBPyConnection, table: Table, snapshot: dt.date, source: str
) -> None:
    """Applies `source` (the snapshot `snapshot` of `table`) to its stored versions."""
    latest, earlier = stored(table, "latest"), stored(table, "earlier")
    columns = [c for c in table.column_names if c != "snapshot_date"]
    listed = ", ".join(quote(c) for c in columns)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE incoming AS SELECT {listed}, "
        f"{attributes(table, 'm')} AS attributes FROM {source} AS m"
    )
    con.execute(  # versions that ended: their key is gone or its attributes changed
        f"""UPDATE {latest} AS h SET valid_to = ?, is_current = false
            WHERE h.is_current AND NOT EXISTS (
                SELECT 1 FROM incoming AS i WHERE {same_key(table, "i", "h")}
                AND i.attributes IS NOT DISTINCT FROM {attributes(table, "h")})""",
        [snapshot],
    )
    con.execute(  # rows that do not continue an open version start a new one
        f"""CREATE OR REPLACE TEMP TABLE starting AS
            SELECT i.*, coalesce(h.version_number, 0) + 1 AS version_number
            FROM incoming AS i LEFT JOIN {latest} AS h ON {same_key(table, "i", "h")}
            WHERE h.is_current IS NOT TRUE"""
    )
    superseded = f"EXISTS (SELECT 1 FROM starting AS s WHERE {same_key(table, 's', 'h')})"
    con.execute(f"INSERT INTO {earlier} SELECT * FROM {latest} AS h WHERE {superseded}")
    con.execute(f"DELETE FROM {latest} AS h WHERE {superseded}")
    con.execute(
        f"INSERT INTO {latest} SELECT {listed}, CAST(version_number AS INTEGER), "
        "?::DATE, NULL::DATE, true FROM starting",
        [snapshot],
    )
    con.execute("DROP TABLE incoming; DROP TABLE starting")


def apply_events(con: duckdb.DuckDBPyConnection, table: Table, id_column: str, source: str) -> None:
    """Ids the snapshot no longer has move to `<t>_earlier`; `<t>_latest` becomes the
    snapshot's rows as seen tonight, each keeping the snapshot it was first seen in."""
    latest, earlier = stored(table, "latest"), stored(table, "earlier")
    key = quote(id_column)
    columns = ", ".join(f"n.{quote(c)}" for c in table.column_names if c != "snapshot_date")
    con.execute(
        f"INSERT INTO {earlier} SELECT * FROM {latest} AS h "
        f"WHERE NOT EXISTS (SELECT 1 FROM {source} AS n WHERE n.{key} = h.{key})"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE incoming AS
            SELECT {columns},
                coalesce(l.first_seen_snapshot, e.first_seen_snapshot, n.snapshot_date)
                    AS first_seen_snapshot,
                n.snapshot_date AS last_seen_snapshot
            FROM {source} AS n
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
