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
from tests.e2e.conftest import TODAY, Pipeline, start_pipeline
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
    org = generate_org(customers=40, badges=18, seed=41, as_of=TODAY)
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
    before = resume_pipeline.server.stats.total_requests
    done = run_cli(workdir, "run", **night_environment(resume_pipeline))
    assert done.returncode == 0, done.stdout + done.stderr
    return Lake(
        workdir / "data"
    ).warehouse_path, resume_pipeline.server.stats.total_requests - before


def kill_after(process: subprocess.Popen, pipeline: Pipeline, requests: int) -> None:
    """SIGKILLs the run's whole process group once the sandbox has served `requests` more."""
    target = pipeline.server.stats.total_requests + requests
    deadline = time.monotonic() + 120
    while pipeline.server.stats.total_requests < target and process.poll() is None:
        assert time.monotonic() < deadline, "the run never reached the kill point"
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75])
def test_a_night_killed_mid_extraction_resumes_with_only_the_missing_calls(
    tmp_path: Path, resume_pipeline: Pipeline, uninterrupted: tuple[Path, int], fraction: float
):
    full_warehouse, full_requests = uninterrupted
    environment = night_environment(resume_pipeline)
    stats = resume_pipeline.server.stats
    start = stats.total_requests
    process = subprocess.Popen(
        [*CLI, "run"],
        env=cli_environment(tmp_path, **environment),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own group: the normalizer child dies with it
    )
    try:
        kill_after(process, resume_pipeline, round(fraction * full_requests))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    lake = Lake(tmp_path / "data")
    assert process.returncode == -signal.SIGKILL
    assert not lake.warehouse_path.exists()  # nothing was published
    assert list(building_dir(lake, TODAY).glob("responses-*.parquet"))  # checkpointed
    served_before_kill = stats.total_requests - start

    resumed = run_cli(tmp_path, "run", **environment)
    rerun_requests = stats.total_requests - start - served_before_kill

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resumed:" in resumed.stdout
    missing = full_requests - served_before_kill
    assert missing <= rerun_requests <= missing + IN_FLIGHT_SLACK
    if fraction == 0.5:
        assert rerun_requests <= 0.6 * full_requests
    for table in TABLES:
        assert _differences(full_warehouse, lake.warehouse_path, table) == 0, table


def test_a_night_killed_with_its_host_resumes_on_a_new_host_from_the_bucket(
    tmp_path: Path, resume_pipeline: Pipeline, uninterrupted: tuple[Path, int], s3: S3Server
):
    full_warehouse, full_requests = uninterrupted
    bucket = f"badges-resume-{uuid.uuid4().hex[:8]}"
    s3.filesystem().create_dir(bucket)
    environment = {
        **night_environment(resume_pipeline),
        **s3.environment(),
        "BADGES_BUCKET_URL": f"s3://{bucket}/nightly",
    }
    stats = resume_pipeline.server.stats
    start = stats.total_requests
    lost_host, new_host = tmp_path / "lost", tmp_path / "new"
    lost_host.mkdir()
    new_host.mkdir()
    process = subprocess.Popen(
        [*CLI, "run"],
        env=cli_environment(lost_host, **environment),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        kill_after(process, resume_pipeline, round(0.5 * full_requests))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    served_before_kill = stats.total_requests - start
    shutil.rmtree(lost_host)  # the host is gone with its disk
    checkpoint = s3.filesystem().get_file_info(
        fs.FileSelector(f"{bucket}/nightly/lake/raw", recursive=True)
    )
    assert [i for i in checkpoint if i.path.endswith(".parquet") and ".building/" in i.path]

    resumed = run_cli(new_host, "run", **environment)
    rerun_requests = stats.total_requests - start - served_before_kill

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resumed:" in resumed.stdout
    assert rerun_requests <= 0.6 * full_requests
    for table in TABLES:
        assert _differences(full_warehouse, Lake(new_host / "data").warehouse_path, table) == 0
