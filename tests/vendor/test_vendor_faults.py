"""The vendor's world under the vendor's faults: its per-API limit with and without
Retry-After, OAuth tokens that expire mid-night, and SIGKILL during and after the
extraction. Each night loads what a clean night over the same world loads."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.lake import Lake
from pipelines.lake.failpoints import KILL_AT_VARIABLE
from pipelines.sandbox import Faults, SandboxCredentials
from tests.e2e.conftest import Pipeline
from tests.e2e.test_cli import CLI, cli_environment, run_cli
from tests.e2e.test_live_readers import api_environment
from tests.vendor.conftest import contract_rows, start_vendor_pipeline

Rows = dict[str, list[tuple]]


@pytest.fixture(scope="module")
def clean_night(tmp_path_factory: pytest.TempPathFactory) -> Rows:
    runs = start_vendor_pipeline(tmp_path_factory.mktemp("vendor-clean"))
    pipeline = next(runs)
    try:
        assert pipeline.run().success
        return contract_rows(pipeline.lake.warehouse_path)
    finally:
        runs.close()


def one_night(tmp_path: Path, faults: Faults, **api: object) -> tuple[Pipeline, dict, Rows]:
    runs = start_vendor_pipeline(tmp_path, faults, api.pop("credentials", None))
    pipeline = next(runs)
    try:
        result = pipeline.run(**api)
        assert result.success
        metadata = result.asset_materializations_for_node("raw_api_responses")[0].metadata
        return (
            pipeline,
            {k: v.value for k, v in metadata.items()},
            contract_rows(pipeline.lake.warehouse_path),
        )
    finally:
        runs.close()


@pytest.mark.parametrize("retry_after", [True, False], ids=["retry-after", "no-retry-after"])
def test_the_per_api_limit_is_backpressure_never_a_lost_row(
    tmp_path: Path, clean_night: Rows, retry_after: bool
) -> None:
    faults = Faults(rate_limit="8/s", retry_after=retry_after)
    pipeline, metadata, rows = one_night(tmp_path, faults, max_attempts=1)

    assert pipeline.server.stats.rate_limited > 0  # the limit was met
    assert metadata["throttled_429"] == pipeline.server.stats.rate_limited
    assert metadata["failed_calls"] == 0  # one attempt per call, and no 429 spent it
    assert rows == clean_night


def test_oauth_tokens_that_expire_mid_night_are_renewed(tmp_path: Path, clean_night: Rows) -> None:
    credentials = SandboxCredentials(token_ttl_seconds=0.5)
    pipeline, metadata, rows = one_night(
        tmp_path,
        Faults(latency_ms=60),
        credentials=credentials,
        username=None,
        password=None,
        client_key=credentials.client_key,
        client_secret=credentials.client_secret,
        concurrency=2,
    )

    assert metadata["token_renewals"] >= 2  # the night outlived its first tokens
    assert pipeline.server.stats.auth_failures == 0  # no request with an expired token
    assert rows == clean_night


@pytest.fixture
def vendor(tmp_path: Path) -> Iterator[Pipeline]:
    (tmp_path / "sandbox").mkdir()
    yield from start_vendor_pipeline(tmp_path / "sandbox")


def night_environment(pipeline: Pipeline) -> dict[str, str]:
    return {
        **api_environment(pipeline),
        "CAPILLARY_RATE_LIMIT": "40/s",  # slow enough to be killed mid-night
        "BADGES_CHECKPOINT_SECONDS": "0.1",
    }


def test_a_night_killed_during_its_extraction_resumes_with_what_is_missing(
    tmp_path: Path, vendor: Pipeline, clean_night: Rows
) -> None:
    stats = vendor.server.stats
    process = subprocess.Popen(
        [*CLI, "run"],
        env=cli_environment(tmp_path, **night_environment(vendor)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while stats.total_requests < 35 and process.poll() is None:
        assert time.monotonic() < deadline, "the night never reached the kill point"
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = stats.total_requests
    lake = Lake(tmp_path / "data")
    assert not lake.warehouse_path.exists()  # nothing published

    resumed = run_cli(tmp_path, "run", **night_environment(vendor))

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resumed:" in resumed.stdout
    assert stats.total_requests - killed_at < 67  # fewer than a whole night's calls
    assert contract_rows(lake.warehouse_path) == clean_night


@pytest.mark.parametrize("kill_at", ["load", "publish"])
def test_a_night_killed_after_its_extraction_is_published_without_a_call(
    tmp_path: Path, vendor: Pipeline, clean_night: Rows, kill_at: str
) -> None:
    environment = night_environment(vendor)
    killed = run_cli(tmp_path, "run", **environment, **{KILL_AT_VARIABLE: kill_at})
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    before = vendor.server.stats.total_requests

    resumed = run_cli(tmp_path, "run", **environment)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert vendor.server.stats.total_requests == before  # not one call
    assert contract_rows(Lake(tmp_path / "data").warehouse_path) == clean_night
