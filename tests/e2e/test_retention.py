"""Local retention over several nights: old nights are pruned after each publish, the nights
a later run reads stay, the history equals that of a data directory that keeps every night,
and a replay of a pruned night says what to restore.

The nights before today are simulated as in `test_rotation`: each calls the sandbox (its
current state) and files the answers under the night's date; the warehouse steps then run
through Dagster for that date, from its archive. Today's night runs wholly through Dagster.
Each night's archive and partitions are also copied into a directory that keeps them all,
whose full history rebuild is what the pruned directory's history must equal.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from assets.bucket import bucket_restore
from assets.extract import raw_api_responses
from assets.local_retention import local_retention
from assets.warehouse import published_warehouse, warehouse_history, warehouse_tables
from pipelines.lake import Lake
from pipelines.lake.nightrecord import fingerprint_nights
from pipelines.lake.pruning import pruned_dates, snapshot_dates
from pipelines.lake.tables import TABLES
from pipelines.sandbox import generate_org
from pipelines.warehouse.history import HISTORY_TABLES, rebuild_history
from tests.e2e.conftest import Pipeline, start_pipeline, today
from tests.e2e.test_incremental import change_the_org
from tests.e2e.test_replay import failure_descriptions, materialize_date
from tests.e2e.test_rotation import run_simulated_night

NIGHTS = 9  # details are refetched within 7 nights: the first two nights become prunable
KEEP = 2


def days() -> list[dt.date]:
    return [today() - dt.timedelta(days=NIGHTS - 1 - n) for n in range(NIGHTS)]


# the night's steps up to the publish (the models and the report play no part in retention)
STEPS = [
    bucket_restore,
    raw_api_responses,
    warehouse_tables,
    warehouse_history,
    published_warehouse,
    local_retention,
]


def keeping(nights: int, replay: bool = False) -> dict:
    ops = {"local_retention": {"config": {"keep_nights": nights}}}
    if replay:
        ops["raw_api_responses"] = {"config": {"replay": True}}
    return {"ops": ops}


def history_rows(database: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        columns = ", ".join(
            f"CAST({quote} AS VARCHAR)"
            for (quote,) in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'history' AND table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
        )
        return sorted(con.execute(f"SELECT {columns} FROM history.{table}").fetchall(), key=repr)


@pytest.fixture
def retained(tmp_path: Path) -> Iterator[Pipeline]:
    yield from start_pipeline(
        tmp_path, generate_org(customers=30, badges=15, seed=23, as_of=today())
    )


def run_nights(retained: Pipeline, every_night: Lake) -> list[str]:
    """The nights of days(), published with retention; each night's files also kept whole.
    Returns the nights the retention steps said they pruned."""
    pruned = []
    for night, day in enumerate(days()):
        if night:
            change_the_org(retained, night)
        if day < today():
            run_simulated_night(retained, retained.lake, day, nights=1)
        result = materialize_date(retained, day, keeping(KEEP), STEPS)
        assert result.success, failure_descriptions(result)
        retention = result.asset_materializations_for_node("local_retention")[0].metadata
        pruned += retention["pruned"].value
        for table in ("raw", *TABLES):
            shutil.copytree(retained.lake.table_dir(table, day), every_night.table_dir(table, day))
    return pruned


def test_retention_keeps_the_window_and_what_later_runs_read_and_the_history_whole(
    retained: Pipeline, tmp_path: Path
):
    every_night = Lake(tmp_path / "all")
    reported = run_nights(retained, every_night)
    lake = retained.lake
    unpruned = tmp_path / "unpruned.duckdb"
    with duckdb.connect(str(unpruned)) as con:
        rebuild_history(con, every_night, today())

    reuse_sources = fingerprint_nights(lake.raw_dir(today()))
    protected_old = reuse_sources - set(days()[-KEEP:])
    assert protected_old, "some reused detail comes from a night older than the window"
    assert snapshot_dates(lake) == sorted(set(days()[-KEEP:]) | protected_old)
    for day in protected_old:
        assert lake.raw_files(day), day
    pruned = sorted(pruned_dates(lake))
    assert pruned and set(pruned) == set(days()) - set(snapshot_dates(lake))
    assert reported == [str(day) for day in pruned]
    for day in pruned:
        assert not lake.raw_dir(day).exists()
        assert not any(lake.table_dir(t, day).exists() for t in TABLES), day
    assert snapshot_dates(every_night) == days()

    for table in HISTORY_TABLES:  # the nightly history, applied night by night
        assert history_rows(lake.warehouse_path, table) == history_rows(unpruned, table), table

    # a replay of today rebuilds the history: from the base and the nights kept
    result = materialize_date(retained, today(), keeping(KEEP, replay=True), STEPS)
    assert result.success, failure_descriptions(result)
    for table in HISTORY_TABLES:
        assert history_rows(lake.warehouse_path, table) == history_rows(unpruned, table), table
    assert len(history_rows(lake.warehouse_path, "applied_snapshots")) == NIGHTS

    result = materialize_date(retained, pruned[0], keeping(KEEP), STEPS)
    assert not result.success
    [message] = failure_descriptions(result)
    assert f"snapshot {pruned[0]} was pruned" in message
    assert str(lake.raw_dir(pruned[0])) in message
    assert "or restore it from the bucket" in message
