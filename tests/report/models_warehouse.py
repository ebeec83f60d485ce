"""A DuckDB warehouse whose `analytics` models are built by the real SQL over chosen rows.

The contract tables are created from `pipelines.lake.tables`, filled with the rows a test
names (every other column null), and dbt builds `sql/*.sql` on top, so the report reads
models exactly as the nightly run builds them.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.lake.tables import TABLES
from pipelines.warehouse.dbt_project import build_models
from pipelines.warehouse.ddl import create_table_sql
from pipelines.warehouse.loader import write_snapshot_info


@dataclass
class Rows:
    """Rows of the contract tables the report's models read."""

    badges: dict[str, str] = field(default_factory=dict)  # badge_id -> name
    available: list[tuple[str, str]] = field(default_factory=list)  # customer_id, badge_id
    issuals: list[tuple[str, str, str, dt.datetime]] = field(default_factory=list)
    # customer_id, badge_id, earn_id, earned_at, earn_expires_at (or None), earn_status
    earns: list[tuple[str, str, str, dt.datetime, dt.datetime | None, str]] = field(
        default_factory=list
    )


def build_warehouse(path: Path, snapshot_date: dt.date, rows: Rows) -> Path:
    """Writes `path`: contract tables holding `rows`, snapshot_info, every model built."""
    with duckdb.connect(str(path)) as con:
        for table in TABLES.values():
            con.execute(create_table_sql(table))
        _insert(
            con,
            "INSERT INTO main.badges (snapshot_date, badge_id, name) VALUES (?, ?, ?)",
            [(snapshot_date, badge_id, name) for badge_id, name in rows.badges.items()],
        )
        _insert(
            con,
            "INSERT INTO main.customer_badges (snapshot_date, customer_id, identifier_type, "
            "badge_id, list_type) VALUES (?, ?, 'id', ?, 'AVAILABLE')",
            [(snapshot_date, *row) for row in rows.available],
        )
        _insert(
            con,
            "INSERT INTO main.badge_issuals (snapshot_date, customer_id, identifier_type, "
            "badge_id, issue_id, issued_at, issued_status) VALUES (?, ?, 'id', ?, ?, ?, 'ACTIVE')",
            [(snapshot_date, *row) for row in rows.issuals],
        )
        _insert(
            con,
            "INSERT INTO main.badge_earns (snapshot_date, customer_id, identifier_type, "
            "badge_id, earn_id, earned_at, earn_expires_at, earn_status) "
            "VALUES (?, ?, 'id', ?, ?, ?, ?, ?)",
            [(snapshot_date, *row) for row in rows.earns],
        )
        counts = {
            name: con.execute(f"SELECT count(*) FROM main.{name}").fetchone()[0] for name in TABLES
        }
        write_snapshot_info(con, snapshot_date, counts)
    build_models(path, snapshot_date)
    return path


def a_year_of_earns(snapshot_date: dt.date, seed: int = 5) -> Rows:
    """Eight badges, sixty customers, a year of sparse earns (0-3 a week per badge)."""
    rng = random.Random(seed)
    rows = Rows(badges={f"b{n}": f"Badge {n} {'walker' if n % 2 else 'saver'}" for n in range(8)})
    start = dt.datetime.combine(snapshot_date, dt.time(), dt.UTC) - dt.timedelta(days=365)
    for number in range(60):
        customer = f"c{number}"
        for badge_id in rng.sample(sorted(rows.badges), 3):
            rows.available.append((customer, badge_id))
            issued_at = start + dt.timedelta(hours=rng.uniform(0, 300 * 24))
            rows.issuals.append((customer, badge_id, f"i-{customer}-{badge_id}", issued_at))
            for earn in range(rng.randint(0, 3)):
                earned_at = issued_at + dt.timedelta(hours=rng.uniform(2, 60 * 24))
                expires_at = dt.datetime.combine(snapshot_date, dt.time(12), dt.UTC) + (
                    dt.timedelta(days=rng.randint(-20, 45))
                )
                earn_id = f"e-{customer}-{badge_id}-{earn}"
                rows.earns.append((customer, badge_id, earn_id, earned_at, expires_at, "ACTIVE"))
    return rows


def _insert(con: duckdb.DuckDBPyConnection, sql: str, rows: list[tuple]) -> None:
    if rows:
        con.executemany(sql, rows)
