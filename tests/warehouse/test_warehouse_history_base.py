"""Once retention prunes old snapshots, a history rebuild starts from the history base and
gives the tables a rebuild from every snapshot gives."""

from __future__ import annotations

import datetime as dt
import random

import duckdb

from pipelines.lake import Lake
from pipelines.lake.pruning import prune, snapshot_dates
from pipelines.warehouse.history import EVENT_TABLES, VERSIONED_TABLES, rebuild_history
from pipelines.warehouse.history_base import history_base_through, roll_history_base
from tests.warehouse.test_warehouse_history_incremental import START, STORED, night_rows, rows_of

NIGHTS = 10


def test_a_rebuild_from_the_base_equals_a_rebuild_from_every_snapshot(
    lake: Lake, write_snapshot, tmp_path
):
    rng = random.Random(7)
    state: dict = {"names": {}, "earned": {}}
    days = [START + dt.timedelta(days=n) for n in range(NIGHTS)]
    for night, day in enumerate(days):
        write_snapshot(day, night_rows(rng, night, state))
    everything = tmp_path / "everything.duckdb"
    with duckdb.connect(str(everything)) as con:
        rebuild_history(con, lake, days[-1])

    roll_history_base(lake, days[2])  # a first base, then rolled forward over two more nights
    assert prune(lake, keep_nights=NIGHTS - 3, protected_dates=set()) == days[:3]
    roll_history_base(lake, days[4])
    assert prune(lake, keep_nights=NIGHTS - 5, protected_dates={days[3]}) == [days[4]]
    assert snapshot_dates(lake) == [days[3], *days[5:]]
    assert history_base_through(lake) == days[4]

    from_base = tmp_path / "from_base.duckdb"
    with duckdb.connect(str(from_base)) as con:
        rebuild_history(con, lake, days[-1])
    for name in [*STORED, *VERSIONED_TABLES, *EVENT_TABLES]:
        assert rows_of(from_base, name) == rows_of(everything, name), name
    assert len(rows_of(from_base, "badges_earlier")) > 0  # versions older than the base
