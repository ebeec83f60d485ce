"""A night's disk need, a full disk recognised and named, and what crashed nights left given
back, on real files (a full disk on a real tmpfs)."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import random
from pathlib import Path

import duckdb
import pytest

from pipelines.lake import Lake
from pipelines.lake.checkpoint import CheckpointWriter
from pipelines.lake.durable import TEMP_SUFFIX, write_text
from pipelines.lake.leftovers import give_back_leftovers
from pipelines.lake.nightrecord import NOTE_FILE, NightNote
from pipelines.lake.partition_swap import OLD_PREFIX, TEMP_PREFIX
from pipelines.lake.raw import RawRecord
from pipelines.lake.space import (
    FIXED_BYTES,
    LAKE_BYTES_PER_CUSTOMER,
    MARGIN,
    RAW_BYTES_PER_CUSTOMER,
    WAREHOUSE_BYTES_PER_CUSTOMER,
    DiskFull,
    NotEnoughSpace,
    ensure_space,
    estimate_need,
    is_disk_full,
    naming_a_full_disk,
)
from tests.tmpfs import small_disk

DAY = dt.date(2026, 12, 2)
KIB = 1024


def put(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def last_night(lake: Lake, customers: int, fetched: int) -> None:
    """A published night: its archive, one table's partition and the warehouse."""
    put(lake.raw_dir(DAY) / "responses-000001.parquet", 300 * KIB)
    note = NightNote(DAY.isoformat(), customers=customers, customers_fetched=fetched)
    note.write(lake.raw_dir(DAY))
    put(lake.table_dir("badges", DAY) / "part-0.parquet", 40 * KIB)
    put(lake.table_dir("customer_badges", DAY) / "part-0.parquet", 60 * KIB)
    lake.warehouse_path.touch()
    os.truncate(lake.warehouse_path, 16 * 1024 * KIB)  # sparse: its size, not its blocks


def test_a_first_night_is_estimated_per_customer(tmp_path: Path):
    need = estimate_need(Lake(tmp_path), customers=1000, fetched=400)

    assert need is not None
    assert need.raw == 400 * RAW_BYTES_PER_CUSTOMER
    assert need.lake == 1000 * LAKE_BYTES_PER_CUSTOMER
    assert need.staging == FIXED_BYTES + 1000 * WAREHOUSE_BYTES_PER_CUSTOMER
    assert need.total == round((need.raw + need.lake + need.staging) * MARGIN)
    assert "first night: 1,000 customers" in need.describe()
    assert estimate_need(Lake(tmp_path)) is None  # nothing to go on


def test_a_night_is_estimated_from_the_last_snapshot_scaled_to_its_customers(tmp_path: Path):
    lake = Lake(tmp_path)
    last_night(lake, customers=100, fetched=50)
    raw = 300 * KIB + (lake.raw_dir(DAY) / NOTE_FILE).stat().st_size

    same = estimate_need(lake)
    doubled = estimate_need(lake, customers=200, fetched=150)

    assert same is not None and doubled is not None
    assert (same.raw, same.lake, same.staging) == (raw, 100 * KIB, 16 * 1024 * KIB)
    assert (doubled.raw, doubled.lake, doubled.staging) == (3 * raw, 200 * KIB, 32 * 1024 * KIB)
    assert f"from the snapshot of {DAY}" in same.describe()


def test_a_small_warehouse_counts_no_less_than_a_first_nights(tmp_path: Path):
    lake = Lake(tmp_path)
    last_night(lake, customers=100, fetched=50)
    os.truncate(lake.warehouse_path, 1024 * KIB)

    need = estimate_need(lake, customers=100)

    assert need is not None
    assert need.staging == FIXED_BYTES + 100 * WAREHOUSE_BYTES_PER_CUSTOMER


def test_short_space_is_refused_naming_the_directory_free_and_needed(tmp_path: Path):
    lake = Lake(tmp_path)
    need = estimate_need(lake, customers=10**9)

    with pytest.raises(NotEnoughSpace) as refused:
        ensure_space(lake, need)

    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"not enough disk space in {tmp_path}: ")
    assert " MiB free, the night needs " in message and "BADGES_DATA_DIR" in message
    ensure_space(lake, estimate_need(lake, customers=10))  # a small night fits


def test_enospc_is_recognised_through_causes_and_in_library_messages():
    full = OSError(errno.ENOSPC, "No space left on device")
    try:
        try:
            raise full
        except OSError as error:
            raise RuntimeError("writing part 3") from error
    except RuntimeError as wrapped:
        assert is_disk_full(wrapped)
    assert is_disk_full(ExceptionGroup("unhandled errors in a TaskGroup", [ValueError(), full]))
    assert is_disk_full(duckdb.IOException('Could not write file "x": No space left on device'))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(ValueError("bad value"))


def test_a_checkpoint_on_a_full_disk_leaves_no_temporary_file_and_is_named(tmp_path: Path):
    with small_disk(tmp_path / "disk", size_mib=1) as disk:
        lake = Lake(disk / "data")
        building = lake.building_dir(dt.date(2026, 12, 3))
        writer = CheckpointWriter(building)
        noise = random.Random(7).randbytes(1024 * KIB)  # zstd cannot shrink it
        writer.add([RawRecord("badge_meta", "/x", True, 200, noise + bytes([i])) for i in range(2)])
        given_back = []

        with (
            pytest.raises(DiskFull) as full,
            naming_a_full_disk(lake, "checkpointing", lambda: given_back.append(True)),
        ):
            writer.flush()

        assert str(full.value).startswith(f"no space left on device in {lake.root} while ")
        assert "free at least " in str(full.value)
        assert given_back == [True]
        assert list(building.rglob(f"*{TEMP_SUFFIX}")) == []
        assert list(building.glob("responses-*")) == []
        with pytest.raises(OSError) as text_full:
            write_text("y" * 2 * 1024 * KIB, building / "note.json")
        assert is_disk_full(text_full.value)
        assert list(building.rglob(f"*{TEMP_SUFFIX}")) == []


def test_leftovers_of_a_crashed_night_are_given_back_and_checkpoints_kept(tmp_path: Path):
    lake = Lake(tmp_path)
    today = DAY + dt.timedelta(days=1)
    staging = put(lake.staging_dir / "warehouse.2026-12-03.duckdb", 500 * KIB)
    temp_part = put(
        lake.lake_dir / "badges" / f"{TEMP_PREFIX}2026-12-03-abc" / "part-0.parquet", 70 * KIB
    )
    # a partition moved aside by a swap that never finished: put back
    put(lake.lake_dir / "badges" / f"{OLD_PREFIX}2026-12-02-def" / "part-0.parquet", 5 * KIB)
    # an archive moved aside whose replacement did arrive: removed
    put(lake.raw_dir(DAY) / "responses-000001.parquet", 9 * KIB)
    put(lake.raw_dir(DAY).with_name(lake.raw_dir(DAY).name + ".old") / "a.parquet", 30 * KIB)
    killed_write = put(lake.raw_dir(DAY) / f"night.json{TEMP_SUFFIX}", 1 * KIB)
    checkpoint = put(lake.building_dir(today) / "responses-000001.parquet", 11 * KIB)
    (lake.building_dir(today) / "_state").mkdir()
    (lake.building_dir(today) / "_state" / "checkpoint.json").write_text(json.dumps({}))

    given_back = give_back_leftovers(lake)

    assert given_back == (500 + 70 + 30 + 1) * KIB
    assert not staging.exists() and not temp_part.parent.exists() and not killed_write.exists()
    assert (lake.table_dir("badges", DAY) / "part-0.parquet").stat().st_size == 5 * KIB
    assert lake.raw_dates() == [DAY] and lake.partition_dates("badges") == [DAY]
    assert not list(lake.lake_dir.rglob("*.old"))
    assert checkpoint.exists()  # the next attempt resumes from it
