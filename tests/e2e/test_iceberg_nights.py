"""Whole nights through `badges` and their Iceberg tables: a night killed in its commit is
completed by the next run without a call, every table then holds the day once and equals
the warehouse's `main` tables (read with pyiceberg and polars), a replay replaces the day's
partition, and a catalog that does not answer stops a night before its publish."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.expressions import EqualTo

from pipelines.lake import Lake
from pipelines.lake.failpoints import KILL_AT_VARIABLE
from pipelines.lake.iceberg import NIGHT_ID, SNAPSHOT_DATE
from pipelines.lake.tables import TABLES
from pipelines.sandbox import generate_org
from tests.e2e.conftest import Pipeline, start_pipeline, today
from tests.e2e.test_cli import run_cli
from tests.e2e.test_live_readers import api_environment


@dataclass
class KilledAndResumed:
    pipeline: Pipeline
    workdir: Path
    lake: Lake
    requests_of_the_rerun: int
    rerun_output: str


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KilledAndResumed]:
    """A night killed after its first table's commit, then run again."""
    org = generate_org(customers=30, badges=16, seed=53, as_of=today())
    for pipeline in start_pipeline(tmp_path_factory.mktemp("iceberg-sandbox"), org):
        workdir = tmp_path_factory.mktemp("iceberg-night")
        env = api_environment(pipeline)
        killed = run_cli(workdir, "run", **env, **{KILL_AT_VARIABLE: "commit"})
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        before = pipeline.server.stats.total_requests
        rerun = run_cli(workdir, "run", **env)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        spent = pipeline.server.stats.total_requests - before
        output = rerun.stdout + rerun.stderr
        yield KilledAndResumed(pipeline, workdir, Lake(workdir / "data"), spent, output)


def catalog_of(lake: Lake) -> SqlCatalog:
    """The catalog as a reader elsewhere opens it: the SQLite file alone."""
    return SqlCatalog("badges", uri=f"sqlite:///{lake.lake_dir / 'catalog.sqlite'}")


def main_rows(lake: Lake, table: str) -> list[tuple]:
    columns = ", ".join(f'"{c}"::VARCHAR' for c in TABLES[table].column_names)
    with duckdb.connect(str(lake.warehouse_path), read_only=True) as con:
        return sorted(con.execute(f"SELECT {columns} FROM main.{table}").fetchall(), key=str)


def iceberg_rows(frame: pl.DataFrame, table: str) -> list[tuple]:
    """The rows as DuckDB's VARCHAR casts print them, to compare with `main_rows`."""
    with duckdb.connect() as con:
        con.register("frame", frame.to_arrow())
        columns = ", ".join(f'"{c}"::VARCHAR' for c in TABLES[table].column_names)
        con.execute("SET TimeZone = 'UTC'")
        return sorted(con.execute(f"SELECT {columns} FROM frame").fetchall(), key=str)


def test_a_commit_killed_midway_is_completed_without_a_call_and_equals_the_warehouse(
    resumed: KilledAndResumed,
):
    assert resumed.requests_of_the_rerun == 0
    assert (
        f"resumed from the sealed archive of {today().isoformat()}: 0 requests"
        in resumed.rerun_output
    )
    assert "committed already" in resumed.rerun_output  # the first table was, before the kill
    catalog = catalog_of(resumed.lake)
    assert sorted(name for _, name in catalog.list_tables("badges")) == sorted(TABLES)
    for name in TABLES:
        table = catalog.load_table(("badges", name))
        nights = [
            s.summary.additional_properties
            for s in table.metadata.snapshots
            if s.summary.additional_properties.get(SNAPSHOT_DATE) == today().isoformat()
        ]
        assert len(nights) == 1, name  # one snapshot for the day
        scan = table.scan(row_filter=EqualTo("snapshot_date", today().isoformat()))
        expected = main_rows(resumed.lake, name)
        assert int(nights[0]["badges.rows"]) == len(expected)
        assert iceberg_rows(pl.from_arrow(scan.to_arrow()), name) == expected, name
        polars = (
            pl.scan_iceberg(table).filter(pl.col("snapshot_date") == today().isoformat()).collect()
        )
        assert iceberg_rows(polars, name) == expected, name


def test_a_replay_replaces_the_day_and_an_unreachable_catalog_stops_before_the_publish(
    resumed: KilledAndResumed,
):
    lake, workdir = resumed.lake, resumed.workdir
    earns = catalog_of(lake).load_table(("badges", "badge_earns"))
    night_id = earns.current_snapshot().summary.additional_properties[NIGHT_ID]
    published = lake.warehouse_path.stat().st_mtime_ns

    unreachable = "postgresql+psycopg2://reader:hush-4c1d@127.0.0.1:9/catalog"
    stopped = run_cli(
        workdir, "replay", "--date", today().isoformat(), PYICEBERG_CATALOG__BADGES__URI=unreachable
    )
    output = stopped.stdout + stopped.stderr
    assert stopped.returncode != 0
    named = [line for line in output.splitlines() if "Iceberg catalog 'badges'" in line]
    assert named and "cannot be opened" in named[0] and "Connection refused" in named[0]
    assert "hush-4c1d" not in output
    assert "Traceback" not in output
    assert lake.warehouse_path.stat().st_mtime_ns == published  # the last good warehouse

    replayed = run_cli(workdir, "replay", "--date", today().isoformat())
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    for name in TABLES:
        table = catalog_of(lake).load_table(("badges", name))
        day = table.scan(row_filter=EqualTo("snapshot_date", today().isoformat()))
        rows = len(main_rows(lake, name))
        assert len(list(day.plan_files())) == (1 if rows else 0), name  # one file, not two
        assert day.to_arrow().num_rows == rows, name
        current = table.current_snapshot().summary.additional_properties
        assert current[NIGHT_ID] == night_id  # the same sealed night, its files replaced
        assert current[SNAPSHOT_DATE] == today().isoformat()
