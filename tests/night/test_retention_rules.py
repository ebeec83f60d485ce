"""Which nights local retention may prune: never those a later run or an unfinished
checkpoint reads, and the setting is checked before anything is removed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.lake import Lake
from pipelines.lake.nightrecord import FINGERPRINT_SCHEMA, write_fingerprints
from pipelines.lake.pruning import prune, snapshot_dates
from pipelines.night.retention import protected_dates, pruned_message
from pipelines.ops.settings import KEEP_NIGHTS_VARIABLE, keep_nights_option

DAYS = [dt.date(2026, 11, 20) + dt.timedelta(days=n) for n in range(6)]


def archive(lake: Lake, day: dt.date, fetched_on: list[dt.date]) -> None:
    """A complete night: its raw archive with the nights its pairs' details were fetched."""
    rows = [
        {"customer_id": f"c{n}", "identifier_type": "id", "badge_id": "b", "fingerprint": "f"}
        | {"fetched_on": when}
        for n, when in enumerate(fetched_on)
    ]
    write_fingerprints(lake.raw_dir(day), pa.Table.from_pylist(rows, schema=FINGERPRINT_SCHEMA))
    lake.table_dir("badges", day).mkdir(parents=True)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path / "data")
    archive(lake, DAYS[0], [DAYS[0]])
    archive(lake, DAYS[1], [DAYS[0], DAYS[1]])
    archive(lake, DAYS[2], [DAYS[0], DAYS[2]])
    archive(lake, DAYS[5], [DAYS[5]])
    return lake


def test_the_newest_night_and_its_reuse_sources_are_protected(lake: Lake):
    assert protected_dates(lake) == {DAYS[5]}
    assert prune(lake, keep_nights=1, protected_dates=protected_dates(lake)) == DAYS[:3]
    assert snapshot_dates(lake) == [DAYS[5]]
    message = pruned_message(lake, DAYS[1])
    assert message is not None and str(lake.raw_dir(DAYS[1])) in message
    assert pruned_message(lake, DAYS[5]) is None


def test_an_unfinished_checkpoint_keeps_the_night_it_builds_on_and_its_sources(lake: Lake):
    lake.building_dir(DAYS[3]).mkdir(parents=True)  # a killed night, resumed later
    assert protected_dates(lake) == {DAYS[5], DAYS[3], DAYS[2], DAYS[0]}
    assert prune(lake, keep_nights=1, protected_dates=protected_dates(lake)) == [DAYS[1]]
    assert lake.building_dir(DAYS[3]).is_dir()
    assert snapshot_dates(lake) == [DAYS[0], DAYS[2], DAYS[5]]


def test_the_setting_comes_from_the_run_config_then_the_environment(monkeypatch):
    monkeypatch.setenv(KEEP_NIGHTS_VARIABLE, "30")
    assert keep_nights_option(5) == 5
    assert keep_nights_option() == 30
    monkeypatch.delenv(KEEP_NIGHTS_VARIABLE)
    assert keep_nights_option() == 14
    monkeypatch.setenv(KEEP_NIGHTS_VARIABLE, "two weeks")
    with pytest.raises(ValueError, match=f"{KEEP_NIGHTS_VARIABLE}: 'two weeks' is not a whole"):
        keep_nights_option()
    with pytest.raises(ValueError, match="keep_nights: -1 must be 0"):
        keep_nights_option(-1)
