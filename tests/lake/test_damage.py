"""A file of the lake that cannot be read is named, with what rebuilds it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.lake import Lake
from pipelines.lake.damage import DamagedFileError, naming_damaged_files, remedy_for
from pipelines.lake.nightrecord import read_night_note

DAY = dt.date(2026, 11, 30)


def truncated_parquet(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"n": list(range(1000))}), path)
    path.write_bytes(path.read_bytes()[:100])
    return path


def test_a_damaged_partition_read_by_duckdb_is_named_with_the_replay_that_rebuilds_it(
    tmp_path: Path,
):
    lake = Lake(tmp_path)
    part = truncated_parquet(lake.table_dir("badges", DAY) / "part-0.parquet")
    lake.raw_dir(DAY).mkdir(parents=True)
    pq.write_table(pa.table({"n": [1]}), lake.raw_dir(DAY) / "responses-000001.parquet")

    with pytest.raises(DamagedFileError) as raised, naming_damaged_files(lake):
        duckdb.sql(f"SELECT count(*) FROM read_parquet('{part}')").fetchall()

    assert raised.value.path == part
    assert str(raised.value) == (
        f"{part} cannot be read (Invalid Input Error: No magic bytes found at end of file); "
        f"rebuild the partition from its raw archive with `badges replay --date {DAY}`"
    )


def test_a_damaged_night_note_is_named_as_the_night_record_it_is(tmp_path: Path):
    lake = Lake(tmp_path)
    note = lake.raw_dir(DAY) / "_state" / "night.json"
    note.parent.mkdir(parents=True)
    note.write_text('{"snapshot_date": "2026-11-')  # cut short

    with pytest.raises(DamagedFileError) as raised:
        read_night_note(lake.raw_dir(DAY))

    message = str(raised.value)
    assert message.startswith(f"{note} cannot be read (")
    assert f"it is the night record of {DAY}" in message
    assert f"rename {lake.raw_dir(DAY)} to snapshot_date={DAY}.damaged" in message


def test_each_kind_of_file_has_its_own_remedy(tmp_path: Path):
    lake = Lake(tmp_path)
    archive_part = lake.raw_dir(DAY) / "responses-000001.parquet"
    checkpoint_part = lake.building_dir(DAY) / "responses-000001.parquet"
    assert "only record of that day: restore it from a copy" in remedy_for(lake, archive_part)
    assert "`badges run --restart`" in remedy_for(lake, checkpoint_part)
    orphan = lake.table_dir("badges", DAY) / "part-0.parquet"  # no archive of DAY
    assert remedy_for(lake, orphan).startswith(f"its raw archive {lake.raw_dir(DAY)} is gone too")


def test_errors_naming_no_file_of_the_lake_pass_through(tmp_path: Path):
    outside = truncated_parquet(tmp_path / "elsewhere" / "x.parquet")
    with pytest.raises(duckdb.InvalidInputException), naming_damaged_files(Lake(tmp_path / "d")):
        duckdb.sql(f"SELECT count(*) FROM read_parquet('{outside}')").fetchall()
