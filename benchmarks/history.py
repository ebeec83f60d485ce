"""The nightly history step with 30 and with 365 days of history: does its cost grow with time?

    uv run python benchmarks/history.py --customers 20000 --days 30 365

Day after day a synthetic snapshot (2% of customers change a day: an earned count, an
earn replaced by a new one, an issual's status; one badge renamed; a constraint changed
weekly) is written to schema `main` and to the lake, and the history step
(`build_history`) applies it, as the nightly run does. The org keeps its size (each
customer holds 3 earns), so only the history's length differs between the points. The
step is timed on the night after each of `--days`; for comparison the full rebuild from
the lake (what every night did before) is timed there too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb

from pipelines.lake import Lake
from pipelines.lake.sql import sql_string
from pipelines.lake.tables import TABLES
from pipelines.warehouse.ddl import create_table_sql
from pipelines.warehouse.history import build_history, rebuild_history

BADGES = 80
START = dt.date(2025, 1, 1)
SNAPSHOT_SQL = {
    "badges": """SELECT $day::DATE AS snapshot_date, 'b' || b AS badge_id,
        'badge ' || b || CASE WHEN b = $n % {badges} THEN ' v' || $n ELSE '' END AS name
        FROM range({badges}) t(b)""",
    "badge_constraints": """SELECT $day::DATE AS snapshot_date, 'b' || b AS badge_id,
        'BADGE' AS constraint_level, 'FIXED_VALUE' AS constraint_kind,
        100 + CASE WHEN b = ($n // 7) % {badges} THEN $n // 7 ELSE 0 END AS max_earn_limit
        FROM range({badges}) t(b)""",
    "customer_badges": """SELECT $day::DATE AS snapshot_date, $day::DATE AS fetched_on,
        'c' || c AS customer_id, 'id' AS identifier_type, 'b' || ((c + k) % {badges}) AS badge_id,
        'EARNED' AS list_type, 1 + ($n + c % 50) // 50 AS earned_count
        FROM range({customers}) t(c), range(4) u(k)""",
    "badge_earns": """SELECT $day::DATE AS snapshot_date, $day::DATE AS fetched_on,
        'c' || c AS customer_id, 'id' AS identifier_type, 'b' || (c % {badges}) AS badge_id,
        'e-' || c || '-' || e AS earn_id, 'ACTIVE' AS earn_status
        FROM range({customers}) t(c), range(($n + c % 50) // 50, ($n + c % 50) // 50 + 3) u(e)""",
    "badge_issuals": """SELECT $day::DATE AS snapshot_date, $day::DATE AS fetched_on,
        'c' || c AS customer_id, 'id' AS identifier_type, 'b' || (c % {badges}) AS badge_id,
        'i-' || c AS issue_id,
        CASE WHEN (($n + c % 50) // 50) % 2 = 0 THEN 'ACTIVE' ELSE 'REVOKED' END AS issued_status
        FROM range({customers}) t(c)""",
}


def write_snapshot(con: duckdb.DuckDBPyConnection, lake: Lake, day: dt.date, customers: int):
    """Day `day`'s snapshot into schema main (every contract table) and into the lake."""
    n = (day - START).days
    for table in TABLES.values():
        con.execute(create_table_sql(table))
        select = SNAPSHOT_SQL.get(table.name)
        if select is not None:
            query = select.format(badges=BADGES, customers=customers)
            query = query.replace("$day", f"DATE '{day}'").replace("$n", str(n))
            con.execute(f"INSERT INTO main.{table.name} BY NAME {query}")
        directory = lake.table_dir(table.name, day)
        directory.mkdir(parents=True, exist_ok=True)
        target = sql_string(directory / "part-0.parquet")
        con.execute(f"COPY main.{table.name} TO {target} (FORMAT parquet)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--days", type=int, nargs="+", default=[30, 365])
    args = parser.parse_args(argv)
    print(f"{args.customers:,} customers, 2% of them changing a day")
    print(f"{'history of':>11}{'rows':>12}{'nightly step':>14}{'full rebuild':>14}", flush=True)
    steps: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="badges-history-") as tmp:
        lake = Lake(Path(tmp))
        with duckdb.connect(str(Path(tmp) / "warehouse.duckdb")) as con:
            for n in range(max(args.days) + 1):
                day = START + dt.timedelta(days=n)
                write_snapshot(con, lake, day, args.customers)
                started = time.perf_counter()
                counts = build_history(con, lake, day)
                if n in args.days:
                    steps[n] = time.perf_counter() - started
                    rebuild = full_rebuild_seconds(lake, day)
                    print(
                        f"{n:>7} days{sum(counts.values()):>12,}{steps[n]:>12.3f} s"
                        f"{rebuild:>12.2f} s",
                        flush=True,
                    )
    if len(steps) >= 2:
        low, high = min(steps), max(steps)
        print(f"nightly step, {high} days against {low} days: {steps[high] / steps[low]:.2f}x")
    return 0


def full_rebuild_seconds(lake: Lake, day: dt.date) -> float:
    with duckdb.connect() as con:
        started = time.perf_counter()
        rebuild_history(con, lake, day)
        return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
