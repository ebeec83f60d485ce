"""A night killed with SIGKILL resumes where it stopped: the rerun asks only for what was missing,
and publishes what an uninterrupted night publishes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyarrow import fs

from pipelines.lake import Lake
from pipelines.lake.tables import TABLES
from pipelines.sandbox import generate_org
from tests.e2e.conftest import Pipeline, start_pipeline, today
from tests.e2e.test_cli import CLI, cli_environment, run_cli
from tests.e2e.test_faults import _differences
from tests.e2e.test_live_readers import api_environment
from tests.services.s3 import S3Server

building_dir = Lake.building_dir

PACE = "60/s"  # the client's pace per API: slow enough to be killed mid-night, no 429
CHECKPOINT_SECONDS = "0.1"
IN_FLIGHT_SLACK = 60  # requests a kill may lose: in flight, or answered since the checkpoint


@pytest.fixture(scope="module")
def resume_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    org = generate_org(customers=40, badges=18, seed=41, as_of=today())
    yield from start_pipeline(tmp_path_factory.mktemp("resume-sandbox"), org)


def night_environment(pipeline: Pipeline) -> dict[str, str]:
    return {
        **api_environment(pipeline),
        "CAPILLARY_RATE_LIMIT": PACE,
        "BADGES_CHECKPOINT_SECONDS": CHECKPOINT_SECONDS,
    }


@pytest.fixture(scope="module")
def uninterrupted(
    tmp_path_factory: pytest.TempPathFactory, resume_pipeline: Pipeline
) -> tuple[Path, int]:
    """The warehouse of a night that ran through, and the requests it took."""
    workdir = tmp_path_factory.mktemp("uninterrupted")
    return counted_night(workdir, resume_pipeline, night_environment(resume_pipeline))


def counted_night(
    workdir: Path, pipeline: Pipeline, environment: dict[str, str]
) -> tuple[Path, int]:
    """`badges run` in `workdir` through to its publish: its warehouse and the requests it took."""
    before = pipeline.server.stats.total_requests
    done = run_cli(workdir, "run", **environment)
    assert done.returncode == 0, done.stdout + done.stderr
    return Lake(workdir / "data").warehouse_path, pipeline.server.stats.total_requests - before


def kill_after(process: subprocess.Popen, pipeline: Pipeline, requests: int) -> None:
    """SIGKILLs the run's whole process group once the sandbox has served `requests` more."""
    target = pipeline.server.stats.total_requests + requests
    deadline = time.monotonic() + 120
    while pipeline.server.stats.total_requests < target and process.poll() is None:
        assert time.monotonic() < deadline, "the run never reached the kill point"
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def killed_night(tmp_path: Path, pipeline: Pipeline, requests: int, **env: str) -> int:
    """A night SIGKILLed after `requests` of its calls; returns the requests it was served."""
    start = pipeline.server.stats.total_requests
    process = subprocess.Popen(
        [*CLI, "run"],
        env=cli_environment(tmp_path, **night_environment(pipeline), **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own group: the normalizer child dies with it
    )
    try:
        kill_after(process, pipeline, requests)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    lake = Lake(tmp_path / "data")
    assert process.returncode == -signal.SIGKILL
    assert not lake.warehouse_path.exists()  # nothing was published
    assert list(building_dir(lake, today()).glob("responses-*.parquet"))  # checkpointed
    return pipeline.server.stats.total_requests - start


def assert_same_warehouse(expected: Path, lake: Lake) -> None:
    for table in TABLES:
        assert _differences(expected, lake.warehouse_path, table) == 0, table


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75])
def test_a_night_killed_mid_extraction_resumes_with_only_the_missing_calls(
    tmp_path: Path, resume_pipeline: Pipeline, uninterrupted: tuple[Path, int], fraction: float
):
    full_warehouse, full_requests = uninterrupted
    served_before_kill = killed_night(tmp_path, resume_pipeline, round(fraction * full_requests))
    stats = resume_pipeline.server.stats
    start = stats.total_requests

    resumed = run_cli(tmp_path, "run", **night_environment(resume_pipeline))
    rerun_requests = stats.total_requests - start

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resumed:" in resumed.stdout
    missing = full_requests - served_before_kill
    assert missing <= rerun_requests <= missing + IN_FLIGHT_SLACK
    if fraction == 0.5:
        assert rerun_requests <= 0.6 * full_requests
    assert_same_warehouse(full_warehouse, Lake(tmp_path / "data"))


def test_a_night_killed_with_its_host_resumes_on_a_new_host_from_the_bucket(
    tmp_path: Path, resume_pipeline: Pipeline, uninterrupted: tuple[Path, int], s3: S3Server
):
    full_warehouse, full_requests = uninterrupted
    bucket = f"badges-resume-{uuid.uuid4().hex[:8]}"
    s3.filesystem().create_dir(bucket)
    environment = {**s3.environment(), "BADGES_BUCKET_URL": f"s3://{bucket}/nightly"}
    lost_host, new_host = tmp_path / "lost", tmp_path / "new"
    lost_host.mkdir()
    new_host.mkdir()
    served_before_kill = killed_night(
        lost_host, resume_pipeline, round(0.5 * full_requests), **environment
    )
    shutil.rmtree(lost_host)  # the host is gone with its disk
    checkpoint = s3.filesystem().get_file_info(
        fs.FileSelector(f"{bucket}/nightly/lake/raw", recursive=True)
    )
    assert [i for i in checkpoint if i.path.endswith(".parquet") and ".building/" in i.path]
    stats = resume_pipeline.server.stats
    start = stats.total_requests

    resumed = run_cli(new_host, "run", **night_environment(resume_pipeline), **environment)
    rerun_requests = stats.total_requests - start

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resumed:" in resumed.stdout
    assert served_before_kill + rerun_requests >= full_requests
    assert rerun_requests <= 0.6 * full_requests
    assert_same_warehouse(full_warehouse, Lake(new_host / "data"))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def overwrite_with_garbage(path: Path) -> None:
    path.write_bytes(b"not parquet " * 64)


@pytest.mark.parametrize("damage", [truncate, overwrite_with_garbage])
def test_an_unreadable_checkpoint_part_is_set_aside_and_the_night_succeeds(
    tmp_path: Path, resume_pipeline: Pipeline, uninterrupted: tuple[Path, int], damage
):
    full_warehouse, full_requests = uninterrupted
    killed_night(tmp_path, resume_pipeline, full_requests // 2)
    lake = Lake(tmp_path / "data")
    parts = sorted(building_dir(lake, today()).glob("responses-*.parquet"))
    part = parts[len(parts) // 2]
    damage(part)
    damaged_bytes = part.read_bytes()

    healed = run_cli(tmp_path, "run", **night_environment(resume_pipeline))

    assert healed.returncode == 0, healed.stdout + healed.stderr
    assert f"warning: checkpoint file {part} cannot be read" in healed.stderr
    kept = lake.raw_dir(today()) / "_damaged" / part.name  # the archive took the folder in
    assert kept.read_bytes() == damaged_bytes
    assert_same_warehouse(full_warehouse, lake)


def test_restart_discards_the_checkpoint_and_makes_every_call_of_a_full_night(
    tmp_path: Path, resume_pipeline: Pipeline, uninterrupted: tuple[Path, int]
):
    full_warehouse, full_requests = uninterrupted
    killed_night(tmp_path, resume_pipeline, full_requests // 2)
    stats = resume_pipeline.server.stats
    start = stats.total_requests

    restarted = run_cli(tmp_path, "run", "--restart", **night_environment(resume_pipeline))

    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert stats.total_requests - start == full_requests
    building = building_dir(Lake(tmp_path / "data"), today())
    assert f"restart: discarded the checkpoint {building}" in restarted.stderr
    assert "resumed:" not in restarted.stdout
    assert_same_warehouse(full_warehouse, Lake(tmp_path / "data"))
