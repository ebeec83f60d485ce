"""A disk that fills, on a real small file system (tmpfs, mounted as root): a night short of
space is refused before its first call, and one that runs out while building the warehouse
gives its staging copy back, leaves the published warehouse as it was, and publishes once
space is freed."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import materialize

from assets.bucket import bucket_restore
from assets.extract import raw_api_responses
from assets.warehouse import warehouse_assets
from pipelines.lake import Lake
from pipelines.lake.space import free_bytes
from pipelines.ops.resources import BucketResource, LakeResource
from pipelines.sandbox import Org
from tests.e2e.conftest import Pipeline, start_pipeline, today
from tests.e2e.test_replay import failure_descriptions
from tests.nights import instance_offering
from tests.tmpfs import small_disk

MIB = 1024 * 1024


@pytest.fixture
def sandbox(tmp_path: Path, small_org: Org) -> Iterator[Pipeline]:
    yield from start_pipeline(tmp_path, small_org)


def on_disk(pipeline: Pipeline, disk: Path) -> Pipeline:
    return dataclasses.replace(pipeline, lake=Lake(disk / "data"))


def materialize_steps(pipeline: Pipeline, assets: list) -> object:
    return materialize(
        assets,
        partition_key=today().isoformat(),
        resources={
            "capillary_api": pipeline.api(),
            "lake": LakeResource(data_dir=str(pipeline.lake.root)),
            "bucket": BucketResource(),
        },
        instance=instance_offering(today()),
        raise_on_error=False,
    )


def loaded_at(lake: Lake) -> object:
    with duckdb.connect(str(lake.warehouse_path), read_only=True) as con:
        return con.execute("SELECT loaded_at FROM main.snapshot_info").fetchone()[0]


def fill(disk: Path, leave_bytes: int) -> Path:
    """A ballast file taking all but `leave_bytes` of the disk's free space."""
    ballast = disk / "ballast"
    with ballast.open("wb") as out:
        remaining = shutil.disk_usage(disk).free - leave_bytes
        while remaining > 0:
            chunk = min(remaining, MIB)
            out.write(b"\0" * chunk)
            remaining -= chunk
    return ballast


def test_a_night_short_of_space_is_refused_in_one_line_before_any_call(
    tmp_path: Path, sandbox: Pipeline
):
    with small_disk(tmp_path / "disk", size_mib=4) as disk:
        pipeline = on_disk(sandbox, disk)
        crashed_staging = pipeline.lake.staging_dir / "warehouse.2026-12-02.duckdb"
        crashed_staging.parent.mkdir(parents=True)
        crashed_staging.write_bytes(b"\0" * MIB)  # a killed night's staging copy
        requests = pipeline.server.stats.total_requests

        result = pipeline.run()

        assert not result.success
        assert pipeline.server.stats.total_requests == requests  # not one request
        [message] = failure_descriptions(result)
        assert "\n" not in message
        assert message.startswith(f"not enough disk space in {pipeline.lake.root}: ")
        free = free_bytes(pipeline.lake) / MIB
        assert f"{free:,.1f} MiB free, the night needs " in message
        assert "first night: 40 customers" in message
        assert not crashed_staging.exists()  # given back before estimating
        assert not pipeline.lake.warehouse_path.exists()
        assert pipeline.lake.raw_dates() == []
        assert not pipeline.lake.building_dir(today()).exists()


@pytest.mark.parametrize(
    "room",
    [0, 1],
    ids=["the published copy does not fit", "the copy fits, the load does not"],
)
def test_space_running_out_in_the_warehouse_build_gives_the_staging_copy_back(
    tmp_path: Path, sandbox: Pipeline, room: int
):
    with small_disk(tmp_path / "disk", size_mib=64) as disk:
        pipeline = on_disk(sandbox, disk)
        assert pipeline.run().success
        published = loaded_at(pipeline.lake)
        extracted = materialize_steps(pipeline, [bucket_restore, raw_api_responses])
        assert extracted.success
        requests = pipeline.server.stats.total_requests
        copy = pipeline.lake.warehouse_path.stat().st_size
        ballast = fill(disk, leave_bytes=64 * 1024 + room * (copy + 512 * 1024))

        failed = materialize_steps(pipeline, warehouse_assets)

        assert not failed.success
        [message] = failure_descriptions(failed)
        assert message.startswith(f"no space left on device in {pipeline.lake.root} while ")
        assert "free at least " in message and "move BADGES_DATA_DIR" in message
        assert "[Errno" not in message
        assert list(pipeline.lake.staging_dir.glob("*")) == []
        assert loaded_at(pipeline.lake) == published  # the published warehouse is intact

        ballast.unlink()
        resumed = materialize_steps(pipeline, warehouse_assets)

        assert resumed.success, failure_descriptions(resumed)
        assert loaded_at(pipeline.lake) > published
        assert pipeline.server.stats.total_requests == requests  # resumed: no call again
        assert list(pipeline.lake.staging_dir.glob("*")) == []
