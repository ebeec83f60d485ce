"""Which sealed nights a run publishes from their archive: those the published warehouse
does not hold, told by the id each sealing gives its night record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines.lake import Lake
from pipelines.lake.nightrecord import NightNote
from pipelines.lake.tables import TABLES
from pipelines.night.tail import unpublished_night
from pipelines.warehouse.loader import write_snapshot_info

DAY = dt.date(2026, 12, 3)


def seal(lake: Lake, day: dt.date, night_id: str | None) -> None:
    lake.raw_dir(day).mkdir(parents=True, exist_ok=True)
    NightNote(day.isoformat(), night_id=night_id).write(lake.raw_dir(day))


def publish(lake: Lake, day: dt.date, night_id: str | None) -> None:
    lake.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(lake.warehouse_path)) as con:
        write_snapshot_info(
            con, day, {name: 0 for name in TABLES}, NightNote(day.isoformat(), night_id=night_id)
        )


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "data")


def test_a_sealed_night_never_published_is_unpublished(lake: Lake):
    seal(lake, DAY, "b")
    assert unpublished_night(lake, DAY).night_id == "b"  # a first night: no warehouse
    publish(lake, DAY - dt.timedelta(days=1), "a")
    assert unpublished_night(lake, DAY).night_id == "b"  # the warehouse holds the night before
    publish(lake, DAY, "a")
    assert unpublished_night(lake, DAY).night_id == "b"  # an earlier sealing of the same day


def test_a_published_night_is_fetched_again(lake: Lake):
    seal(lake, DAY, "b")
    publish(lake, DAY, "b")
    assert unpublished_night(lake, DAY) is None


def test_archives_without_an_id_count_as_published_when_the_warehouse_holds_their_day(
    lake: Lake,
):
    seal(lake, DAY, None)
    publish(lake, DAY, None)
    assert unpublished_night(lake, DAY) is None


def test_a_checkpoint_under_way_is_resumed_instead(lake: Lake):
    seal(lake, DAY, "b")
    lake.building_dir(DAY).mkdir(parents=True)
    assert unpublished_night(lake, DAY) is None


def test_no_archive_or_no_night_record_is_no_sealed_night(lake: Lake):
    assert unpublished_night(lake, DAY) is None
    lake.raw_dir(DAY).mkdir(parents=True)
    assert unpublished_night(lake, DAY) is None
