"""The snapshot dates are the nights that can exist: none on a fresh install, tonight when
the schedule fires, and every night archived in the data directory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from dagster import DagsterInstance, build_schedule_context, build_sensor_context, instance_for_test

from assets.snapshot_dates import daily_snapshots, withdraw_nights
from pipelines.definitions import defs, nightly_schedule
from pipelines.lake import Lake
from pipelines.ops.nightly import NIGHTLY_JOB
from pipelines.ops.resources import LakeResource
from pipelines.ops.sensors import archived_nights

FIRED = dt.datetime(2026, 12, 8, 2, 0, tzinfo=dt.UTC)
ARCHIVED = [dt.date(2026, 12, 5), dt.date(2026, 12, 6)]


def offered(instance: DagsterInstance) -> list[str]:
    return daily_snapshots.get_partition_keys(dynamic_partitions_store=instance)


def archive(lake: Lake, dates: list[dt.date]) -> None:
    for day in dates:
        lake.raw_dir(day).mkdir(parents=True)


def test_a_fresh_install_offers_no_night():
    job = defs.resolve_job_def(NIGHTLY_JOB)
    with DagsterInstance.ephemeral() as instance:
        assert job.partitions_def == daily_snapshots
        assert offered(instance) == []


def test_the_schedule_offers_tonight_and_the_archived_nights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    lake = Lake(tmp_path / "data")
    archive(lake, ARCHIVED)
    monkeypatch.setenv("BADGES_DATA_DIR", str(lake.root))
    with instance_for_test() as instance:  # a schedule's context needs a persistent one
        context = build_schedule_context(instance, scheduled_execution_time=FIRED)

        request = nightly_schedule(context)

        assert request.partition_key == "2026-12-08"
        assert offered(instance) == ["2026-12-05", "2026-12-06", "2026-12-08"]


def test_an_archive_copied_in_is_offered_and_a_pruned_one_withdrawn(tmp_path: Path):
    lake = Lake(tmp_path / "data")
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(
            instance=instance, resources={"lake": LakeResource(data_dir=str(lake.root))}
        )
        archived_nights(context)
        assert offered(instance) == []

        archive(lake, ARCHIVED)
        archived_nights(context)
        assert offered(instance) == ["2026-12-05", "2026-12-06"]

        withdraw_nights(instance, ARCHIVED[:1])
        assert offered(instance) == ["2026-12-06"]
