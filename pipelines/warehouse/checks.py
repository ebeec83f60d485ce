"""Data quality checks over a loaded warehouse, as plain functions returning outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.client.endpoints import LIST_ENDPOINT, META_ENDPOINT
from pipelines.lake.sql import parquet_source, quote
from pipelines.lake.tables import TABLES, Table

SAMPLE_LIMIT = 20

ListKey = tuple[str, str, str]  # (customer_id, identifier_type, list_type)
LIST_KEY = ("customer_id", "identifier_type", "list_type")
EXPECTED_TOTALS = "expected_list_totals"


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def check_unique_key(con: duckdb.DuckDBPyConnection, table: Table) -> CheckOutcome:
    """No two keyed rows of a contract table share its natural key (nulls compare equal);
    rows null in a column of `table.keyed_by` are not keyed."""
    key = ", ".join(quote(column) for column in table.key)
    keyed = " AND ".join(f"{quote(column)} IS NOT NULL" for column in table.keyed_by)
    rows_of = f"main.{quote(table.name)}" + (f" WHERE {keyed}" if keyed else "")
    rows = con.execute(
        f"SELECT {key}, count(*) AS n FROM {rows_of} "
        f"GROUP BY ALL HAVING count(*) > 1 ORDER BY n DESC, {key} LIMIT {SAMPLE_LIMIT}"
    ).fetchall()
    duplicated = _scalar(
        con, f"SELECT count(*) FROM (SELECT 1 FROM {rows_of} GROUP BY {key} HAVING count(*) > 1)"
    )
    description = f"main.{table.name} has one row per ({', '.join(table.key)})"
    if duplicated:
        description += _repeated_rows(con, table, rows_of, key, duplicated)
    return CheckOutcome(
        name=f"unique_key_{table.name}",
        passed=duplicated == 0,
        description=description,
        metadata={
            "duplicated_keys": duplicated,
            "sample": [dict(zip([*table.key, "rows"], row, strict=True)) for row in rows],
        },
    )


# The answer a table's rows come from, named by the columns that say which one.
ANSWER_OF = {
    "customer_badges": ("customer_badges", ("customer_id", "identifier_type", "list_type")),
    "customer_badge_details": ("customer_badge_detail", ("customer_id", "badge_id")),
    "customer_badge_constraints": ("customer_badge_detail", ("customer_id", "badge_id")),
    "badge_issuals": ("customer_badge_detail", ("customer_id", "badge_id")),
    "badge_earns": ("customer_badge_detail", ("customer_id", "badge_id")),
}
META_ANSWER = (META_ENDPOINT.name, ("badge_id",))


def _repeated_rows(
    con: duckdb.DuckDBPyConnection, table: Table, rows_of: str, key: str, duplicated: int
) -> str:
    """Which rows repeat a key, and the answer they came from: the vendor's repeats are
    resolved before the load (pipelines/normalize/repeats.py), so this is a bug of ours."""
    endpoint, columns = ANSWER_OF.get(table.name, META_ANSWER)
    names = list(dict.fromkeys((*table.key, *columns)))
    named = ", ".join(f"t.{quote(column)}" for column in names)
    same = " AND ".join(f"t.{quote(c)} IS NOT DISTINCT FROM d.{quote(c)}" for c in table.key)
    rows = con.execute(
        f"SELECT DISTINCT {named} FROM (SELECT * FROM {rows_of}) AS t "
        f"JOIN (SELECT {key} FROM {rows_of} GROUP BY {key} HAVING count(*) > 1) AS d ON {same} "
        f"ORDER BY ALL LIMIT 3"
    ).fetchall()
    shown = "; ".join(
        ", ".join(f"{name}={value}" for name, value in zip(names, row, strict=True))
        + f" from the {endpoint} answer of "
        + ", ".join(f"{c} {row[names.index(c)]}" for c in columns)
        for row in rows
    )
    return (
        f", but {duplicated:,} key(s) repeat (a bug of the normalizer, which resolves the "
        f"vendor's repeats before the load): {shown}"
    )


def check_unique_keys(con: duckdb.DuckDBPyConnection) -> list[CheckOutcome]:
    """`check_unique_key` for every contract table whose key is unique."""
    return [check_unique_key(con, table) for table in TABLES.values() if table.unique]


def check_listed_badges_have_meta(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Every badge in a customer list has a badges row or a failed badge meta call."""
    query = """
        SELECT DISTINCT cb.badge_id
        FROM main.customer_badges AS cb
        WHERE NOT EXISTS (SELECT 1 FROM main.badges AS b WHERE b.badge_id = cb.badge_id)
          AND NOT EXISTS (
              SELECT 1 FROM main.extract_errors AS x
              WHERE x.endpoint = ? AND x.badge_id = cb.badge_id
          )
        ORDER BY cb.badge_id
    """
    orphans = [row[0] for row in con.execute(query, [META_ENDPOINT.name]).fetchall()]
    return CheckOutcome(
        name="listed_badges_have_meta",
        passed=not orphans,
        description=(
            "every customer_badges.badge_id has a badges row or a badge_meta extract_errors row"
        ),
        metadata={"orphan_badges": len(orphans), "sample": orphans[:SAMPLE_LIMIT]},
    )


def check_list_totals(
    con: duckdb.DuckDBPyConnection, expected_totals: Mapping[ListKey, int]
) -> CheckOutcome:
    """Rows per (customer, identifier_type, list_type) equal the API's pagination total
    (or that total less the entries its pages repeat, when the archive tells them)."""
    keys = list(expected_totals)
    columns = {
        name: pa.array([key[i] for key in keys], pa.string()) for i, name in enumerate(LIST_KEY)
    }
    totals = pa.array(list(expected_totals.values()), pa.int64())
    expected = pa.table(columns | {"total": totals, "repeats": pa.nulls(len(keys), pa.int64())})
    con.register(EXPECTED_TOTALS, expected)
    try:
        return _compare_list_totals(con, f"SELECT * FROM {EXPECTED_TOTALS}")
    finally:
        con.unregister(EXPECTED_TOTALS)


def check_archive_list_totals(
    con: duckdb.DuckDBPyConnection, raw_files: list[Path]
) -> CheckOutcome:
    """`check_list_totals` against the totals the archive's list answers state, in SQL (so
    its memory is DuckDB's, within its limit, however many lists there are)."""
    return _compare_list_totals(con, _archive_totals_sql(raw_files))


def list_totals(raw_files: list[Path]) -> dict[ListKey, int]:
    """What the API said each (customer, identifier type, list type) holds, from the archive.

    Lists answered without a `pagination` block are absent: the API gave no total.
    """
    with duckdb.connect() as con:
        rows = con.execute(_archive_totals_sql(raw_files)).fetchall()
    return {(c, i, t): total for c, i, t, total, _ in rows}


def _archive_totals_sql(raw_files: list[Path]) -> str:
    if not raw_files:
        return (
            "SELECT NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::BIGINT, NULL::BIGINT "
            "WHERE false"
        )
    # `repeats`: entries a page lists twice (by badge id), which the vendor's total may count
    # and the normalizer makes one row of (pipelines.normalize.repeats).
    return f"""
        SELECT customer_id, identifier_type, list_type,
               max(TRY_CAST(json_extract(text, '$.data.pagination.total') AS BIGINT)) AS total,
               sum(coalesce(
                   len(list_filter(ids, lambda id: id IS NOT NULL)) - len(list_distinct(ids)), 0
               )) AS repeats
        FROM (
            SELECT *, list_transform(
                TRY_CAST(json_extract(text, '$.data.badges') AS JSON[]),
                lambda entry: coalesce(entry->>'badgeMetaId', entry->>'id')
            ) AS ids
            FROM (
                SELECT customer_id, identifier_type, list_type, decode(body) AS text
                FROM {parquet_source(raw_files)}
                WHERE endpoint = '{LIST_ENDPOINT.name}' AND ok
            )
        )
        GROUP BY ALL
        HAVING total IS NOT NULL
    """


def _compare_list_totals(con: duckdb.DuckDBPyConnection, expected_sql: str) -> CheckOutcome:
    key = ", ".join(LIST_KEY)
    # One statement, so the expected totals (a scan of the archive) are computed once.
    rows = con.execute(f"""
        WITH expected ({key}, total, repeats) AS ({expected_sql}),
        loaded AS (SELECT {key}, count(*) AS rows FROM main.customer_badges GROUP BY ALL),
        compared AS MATERIALIZED (
            SELECT {key}, total AS expected, coalesce(loaded.rows, 0) AS loaded,
                   coalesce(loaded.rows, 0) NOT IN (total, total - coalesce(repeats, 0)) AS differs
            FROM expected LEFT JOIN loaded USING ({key})
        ),
        sample AS (
            SELECT * EXCLUDE (differs) FROM compared WHERE differs
            ORDER BY {key} LIMIT {SAMPLE_LIMIT}
        )
        SELECT sample.*, figures.*
        FROM (SELECT count(*), count(*) FILTER (WHERE differs) FROM compared) AS figures
        LEFT JOIN sample ON true
        ORDER BY {key}
    """).fetchall()
    checked, mismatched = rows[0][-2:]
    sample = [row[:-2] for row in rows if row[0] is not None]
    return CheckOutcome(
        name="list_totals_match_pagination",
        passed=mismatched == 0,
        description="customer_badges rows per customer and list equal the API's pagination total",
        metadata={
            "lists_checked": checked,
            "mismatched_lists": mismatched,
            "sample": [
                dict(zip([*LIST_KEY, "expected", "loaded"], row, strict=True)) for row in sample
            ],
        },
    )


def check_snapshot_date(con: duckdb.DuckDBPyConnection, expected: dt.date) -> CheckOutcome:
    """`main.snapshot_info` holds exactly one row, for the expected snapshot date."""
    rows = con.execute("SELECT snapshot_date FROM main.snapshot_info").fetchall()
    dates = [row[0] for row in rows]
    return CheckOutcome(
        name="snapshot_date",
        passed=dates == [expected],
        description=f"main.snapshot_info is the snapshot of {expected.isoformat()}",
        metadata={
            "expected": expected.isoformat(),
            "found": [d.isoformat() if d else None for d in dates],
        },
    )


def run_all_checks(
    con: duckdb.DuckDBPyConnection,
    expected_date: dt.date,
    expected_totals: Mapping[ListKey, int] | None = None,
) -> list[CheckOutcome]:
    """Every check; the pagination one only when totals are given."""
    outcomes = [
        check_snapshot_date(con, expected_date),
        *check_unique_keys(con),
        check_listed_badges_have_meta(con),
    ]
    if expected_totals is not None:
        outcomes.append(check_list_totals(con, expected_totals))
    return outcomes


def _scalar(con: duckdb.DuckDBPyConnection, query: str) -> int:
    row = con.execute(query).fetchone()
    return int(row[0]) if row else 0
