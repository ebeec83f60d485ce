"""Runs that heal and backfills from the UI, with the real services: `dagster-daemon run` and
`dagster-webserver` over this project's dagster.yaml, runs launched through GraphQL exactly as
the UI launches them, a sandbox API on 127.0.0.1 slow enough for a run to be killed mid-way.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    RunsFilter,
    materialize,
)

from assets.bucket import bucket_restore
from assets.extract import raw_api_responses
from assets.snapshot_dates import offer_nights
from assets.warehouse import warehouse_assets
from pipelines.lake import Lake
from pipelines.ops.nightly import EXTRACT_TAG, NIGHTLY_JOB
from pipelines.ops.resources import BucketResource, CapillaryApiResource, LakeResource
from pipelines.ops.runs import worker_pid
from pipelines.sandbox import Faults
from tests.nights import instance_offering
from tests.ops.conftest import Api, started_api, today
from tests.ops.processes import (
    PROJECT_ROOT,
    DagsterServices,
    launch_backfill,
    launch_run,
    marked_pids,
    run_badges,
    wait_for,
)

MONITORING_POLL = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())["run_monitoring"][
    "poll_interval_seconds"
]
RENAMED = " (renamed)"


@dataclass
class Night:
    api: Api
    services: DagsterServices
    instance: DagsterInstance
    lake: Lake

    def run(self, run_id: str) -> DagsterRun:
        run = self.instance.get_run_by_id(run_id)
        assert run is not None
        return run

    def building_dir(self, snapshot_date: dt.date) -> Path:
        raw = self.lake.raw_dir(snapshot_date)
        return raw.with_name(raw.name + ".building")

    def extracting(self, snapshot_date: dt.date) -> bool:
        building = self.building_dir(snapshot_date)
        return building.exists() and any(p.is_file() for p in building.rglob("*"))

    def checkpointed(self, snapshot_date: dt.date) -> bool:
        """The extraction wrote its first checkpoint: whole responses a resumed run keeps."""
        return any(self.building_dir(snapshot_date).glob("responses-*.parquet"))


@contextmanager
def served_night(root: Path, faults: Faults, customers: int) -> Iterator[Night]:
    """A sandbox with `faults`, the daemon and the webserver over a fresh DAGSTER_HOME."""
    with started_api(root, faults, customers=customers) as api:
        services = DagsterServices(root / "dagster_home", api.environment(root / "data"))
        try:
            services.start_daemon()
            services.start_webserver()
            instance = services.instance()
            yield Night(api, services, instance, Lake(root / "data"))
            instance.dispose()
        finally:
            services.stop()


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    # ~500 ms a request over 120 customers: the extraction lasts ~20 s, so a run can be
    # killed after its first checkpoint (at 10 s) and still have calls left to make.
    with served_night(tmp_path_factory.mktemp("night"), Faults(latency_ms=500), 120) as night:
        yield night


def retries_of(instance: DagsterInstance, run_id: str) -> list[DagsterRun]:
    return list(instance.get_runs(RunsFilter(tags={"dagster/parent_run_id": run_id})))


def finished(night: Night, run_id: str) -> DagsterRun | None:
    run = night.run(run_id)
    return run if run.is_finished else None


def materialization(instance: DagsterInstance, run_id: str, asset: str) -> dict[str, Any]:
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
        event = entry.get_dagster_event().step_materialization_data.materialization
        if event.asset_key.to_user_string() == asset:
            return {key: value.value for key, value in event.metadata.items()}
    raise AssertionError(f"run {run_id} did not materialize {asset}")


def test_a_killed_run_is_marked_failed_and_retried_until_it_succeeds(night: Night):
    instance_offering(today(), instance=night.instance)  # tonight's date, as the schedule adds it
    run_id = launch_run(night.services, NIGHTLY_JOB, today().isoformat())
    wait_for(lambda: night.extracting(today()), 120, "the run to start extracting")
    beside = run_badges("run", environment=night.services.environment)
    assert beside.returncode == 1  # `badges run` does not queue: it refuses to run beside it
    assert f"run {run_id} of {today()} is in progress" in beside.stderr
    wait_for(lambda: night.checkpointed(today()), 120, "the run's first extraction checkpoint")
    pid, _ = worker_pid(night.instance, run_id)  # the pid the run's process logged
    assert pid in marked_pids(night.services.marker)  # a live process the daemon started

    os.kill(pid, signal.SIGKILL)
    requests_at_kill = night.api.server.stats.total_requests

    wait_for(
        lambda: night.run(run_id).status == DagsterRunStatus.FAILURE,
        MONITORING_POLL + 5,
        "the killed run to be marked failed",
    )
    retry = wait_for(lambda: retries_of(night.instance, run_id), MONITORING_POLL + 20, "a retry")
    assert len(retry) == 1
    assert retry[0].tags["dagster/retry_number"] == "1"
    assert retry[0].tags["dagster/retry_strategy"] == "FROM_FAILURE"
    assert retry[0].tags[EXTRACT_TAG] == "1"
    done = wait_for(lambda: finished(night, retry[0].run_id), 240, "the retry to finish", 1)
    assert done.status == DagsterRunStatus.SUCCESS, night.services.log_tail("dagster-daemon")
    assert night.api.server.stats.total_requests > requests_at_kill  # it was killed mid-way
    extract = materialization(night.instance, done.run_id, "raw_api_responses")
    if "calls_resumed" in extract:  # the retry resumes from the killed run's checkpoint
        assert extract["calls_resumed"] > 0
    assert night.lake.raw_dir(today()).exists()


def test_a_killed_badges_run_is_marked_failed_by_run_monitoring(night: Night):
    shutil.rmtree(night.building_dir(today()), ignore_errors=True)
    started = len(night.instance.get_runs(RunsFilter(job_name=NIGHTLY_JOB)))
    badges_run = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run"],
        cwd=PROJECT_ROOT,
        env=night.services.environment,  # the same DAGSTER_HOME as the daemon's
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: night.extracting(today()), 120, "badges run to start extracting")
        runs = night.instance.get_runs(RunsFilter(job_name=NIGHTLY_JOB))
        assert len(runs) == started + 1
        run = runs[0]
        assert run.status == DagsterRunStatus.STARTED and run.remote_job_origin is None
        os.killpg(badges_run.pid, signal.SIGKILL)  # the CLI and its normalizer child
        badges_run.wait(10)

        wait_for(
            lambda: night.run(run.run_id).status == DagsterRunStatus.FAILURE,
            MONITORING_POLL + 10,
            "run monitoring to mark the killed run failed",
        )
    finally:
        if badges_run.poll() is None:
            os.killpg(badges_run.pid, signal.SIGKILL)
    failure = night.instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)
    assert f"pid {badges_run.pid}) is gone" in failure[-1].get_dagster_event().message


def archive_today(night: Night) -> None:
    """Today's raw archive: left by the tests above, else fetched here in process."""
    if night.lake.raw_dir(today()).exists():
        return
    api = night.api
    result = materialize(
        [bucket_restore, raw_api_responses, *warehouse_assets],
        partition_key=today().isoformat(),
        resources={
            "capillary_api": CapillaryApiResource(
                base_url=api.server.base_url,
                username=api.credentials.username,
                password=api.credentials.password,
                customers_file=str(api.customers_csv),
            ),
            "lake": LakeResource(data_dir=str(night.lake.root)),
            "bucket": BucketResource(),
        },
        instance=instance_offering(today()),
        raise_on_error=False,
    )
    assert result.success


def badge_names(lake: Lake, snapshot_date: dt.date) -> dict[str, str]:
    rows = pq.read_table(lake.table_dir("badges", snapshot_date), columns=["badge_id", "name"])
    return {row["badge_id"]: row["name"] for row in rows.to_pylist()}


def rename_badges_in_archive(raw_dir: Path, names: list[str]) -> None:
    """The change under test: every badge name in the archived bodies gets RENAMED appended."""
    replacements = [(orjson.dumps(name), orjson.dumps(name + RENAMED)) for name in names]
    for path in raw_dir.glob("*.parquet"):
        table = pq.read_table(path)
        bodies = []
        for body in table.column("body").to_pylist():
            for old, new in replacements if body else []:
                body = body.replace(old, new)
            bodies.append(body)
        column = table.schema.get_field_index("body")
        table = table.set_column(column, "body", pa.array(bodies, pa.binary()))
        pq.write_table(table, path, compression="zstd")


def test_a_backfill_launched_as_the_ui_does_rebuilds_archived_dates_without_api_calls(
    night: Night,
):
    archive_today(night)
    names = badge_names(night.lake, today())
    past = [today() - dt.timedelta(days=n) for n in (3, 2, 1)]
    for day in past:
        shutil.rmtree(night.lake.raw_dir(day), ignore_errors=True)
        shutil.copytree(night.lake.raw_dir(today()), night.lake.raw_dir(day))
        rename_badges_in_archive(night.lake.raw_dir(day), sorted(set(names.values())))
    offer_nights(night.instance, past)  # as the snapshot dates sensor finds them
    requests_before = night.api.server.stats.total_requests

    backfill_id = launch_backfill(night.services, NIGHTLY_JOB, [d.isoformat() for d in past])

    def backfill_runs() -> list[DagsterRun] | None:
        runs = night.instance.get_runs(RunsFilter(tags={"dagster/backfill": backfill_id}))
        return list(runs) if len(runs) == len(past) and all(r.is_finished for r in runs) else None

    runs = wait_for(backfill_runs, 300, "the backfill's three runs to finish", 1)
    assert {r.status for r in runs} == {DagsterRunStatus.SUCCESS}
    assert sorted(r.tags["dagster/partition"] for r in runs) == [d.isoformat() for d in past]
    assert night.api.server.stats.total_requests == requests_before
    for run in runs:
        extract = materialization(night.instance, run.run_id, "raw_api_responses")
        assert extract["replayed_from_archive"] is True
    renamed = {badge_id: name + RENAMED for badge_id, name in names.items()}
    for day in past:
        assert badge_names(night.lake, day) == renamed, day
    records = night.instance.get_run_records(RunsFilter(run_ids=[r.run_id for r in runs]))
    spans = sorted((r.start_time, r.end_time) for r in records)
    for (_, previous_end), (next_start, _) in itertools.pairwise(spans):
        assert next_start >= previous_end  # the queue ran them one at a time (badges/extract)
