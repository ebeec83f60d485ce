"""A night killed after its archive was sealed (at the lake's swap, the load or the publish)
is published by the next run of the day from what it fetched: not one request, the tables
of an uninterrupted night, and a summary that says so. `--restart` still fetches the day."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.lake import Lake
from pipelines.lake.failpoints import KILL_AT_VARIABLE
from pipelines.sandbox import generate_org
from tests.e2e.conftest import Pipeline, start_pipeline, today
from tests.e2e.test_cli import run_cli
from tests.e2e.test_live_readers import api_environment
from tests.e2e.test_resume import assert_same_warehouse, counted_night


@pytest.fixture(scope="module")
def tail_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    org = generate_org(customers=40, badges=18, seed=43, as_of=today())
    yield from start_pipeline(tmp_path_factory.mktemp("tail-sandbox"), org)


@pytest.fixture(scope="module")
def uninterrupted(
    tmp_path_factory: pytest.TempPathFactory, tail_pipeline: Pipeline
) -> tuple[Path, int]:
    """The warehouse of a night that ran through, and the requests it took."""
    workdir = tmp_path_factory.mktemp("tail-uninterrupted")
    return counted_night(workdir, tail_pipeline, api_environment(tail_pipeline))


def killed_after_the_seal(tmp_path: Path, pipeline: Pipeline, kill_at: str) -> Lake:
    killed = run_cli(tmp_path, "run", **api_environment(pipeline), **{KILL_AT_VARIABLE: kill_at})
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    lake = Lake(tmp_path / "data")
    assert lake.raw_dir(today()).is_dir()  # sealed
    assert not lake.building_dir(today()).exists()
    assert not lake.warehouse_path.exists()  # not published
    return lake


@pytest.mark.parametrize("kill_at", ["sealed", "load", "publish"])
def test_a_night_killed_after_its_seal_is_published_from_its_archive_without_a_call(
    tmp_path: Path, tail_pipeline: Pipeline, uninterrupted: tuple[Path, int], kill_at: str
):
    full_warehouse, full_requests = uninterrupted
    lake = killed_after_the_seal(tmp_path, tail_pipeline, kill_at)
    stats = tail_pipeline.server.stats
    before = stats.total_requests

    started = time.monotonic()
    resumed = run_cli(tmp_path, "run", **api_environment(tail_pipeline))
    seconds = time.monotonic() - started

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert stats.total_requests == before  # not one request, not even a token
    assert f"resumed from the sealed archive of {today()}: 0 requests" in resumed.stdout
    assert "fetches the day again" in resumed.stdout
    assert_same_warehouse(full_warehouse, lake)
    print(f"kill at {kill_at}: rerun 0 requests (a night: {full_requests}) in {seconds:.1f} s")


def test_restart_fetches_a_sealed_night_again(
    tmp_path: Path, tail_pipeline: Pipeline, uninterrupted: tuple[Path, int]
):
    full_warehouse, _ = uninterrupted
    lake = killed_after_the_seal(tmp_path, tail_pipeline, "load")
    stats = tail_pipeline.server.stats
    lists = stats.requests["customer_badges"]

    restarted = run_cli(tmp_path, "run", "--restart", **api_environment(tail_pipeline))

    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    customers = len(tail_pipeline.org.customers)
    assert stats.requests["customer_badges"] - lists >= 4 * customers  # every list again
    assert "resumed from the sealed archive" not in restarted.stdout
    assert_same_warehouse(full_warehouse, lake)
    lists = stats.requests["customer_badges"]

    again = run_cli(tmp_path, "run", **api_environment(tail_pipeline))

    assert again.returncode == 0, again.stdout + again.stderr
    assert stats.requests["customer_badges"] - lists >= 4 * customers  # published: fetched
    assert "resumed from the sealed archive" not in again.stdout
