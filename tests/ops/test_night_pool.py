"""One night at a time, whatever launched it: a backfill launched from the asset graph (an
ad-hoc asset job, without the nightly job's run tags) waits while a run of the nightly job is
in progress, held by the concurrency pool of dagster.yaml, with the real daemon and webserver.
Slow (about 3.5 minutes): `uv run pytest -m slow tests/ops/test_night_pool.py`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
import yaml
from dagster import DagsterRun, DagsterRunStatus, RunsFilter

from pipelines.definitions import defs
from pipelines.ops.nightly import EXTRACT_TAG, NIGHTLY_JOB
from pipelines.sandbox import Faults
from tests.ops.conftest import today
from tests.ops.processes import (
    PROJECT_ROOT,
    launch_asset_backfill,
    launch_run,
    run_badges,
    wait_for,
)
from tests.ops.test_services import Night, finished, served_night

# The steps that extract, load and publish a night (one step per asset or multi-asset).
NIGHT_STEPS = {"bucket_restore", "raw_api_responses", "warehouse_tables", "published_warehouse"}
Span = tuple[str, float, float]
DEQUEUE_INTERVAL = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())["run_coordinator"][
    "config"
]["dequeue_interval_seconds"]


@pytest.fixture(scope="module")
def slow_night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    # ~2 s a request: the nightly run extracts for longer than the daemon takes to turn
    # the backfill into a run, so the two would overlap without the pool.
    with served_night(tmp_path_factory.mktemp("pool"), Faults(latency_ms=2000), 80) as night:
        yield night


def step_spans(night: Night, run_id: str) -> list[Span]:
    stats = night.instance.get_run_step_stats(run_id)
    return [(s.step_key, s.start_time, s.end_time) for s in stats if s.start_time]


def queued_run(night: Night, backfill_id: str) -> DagsterRun | None:
    """The backfill's run once submitted to the queue (it is created NOT_STARTED first)."""
    runs = night.instance.get_runs(RunsFilter(tags={"dagster/backfill": backfill_id}))
    return runs[0] if runs and runs[0].status != DagsterRunStatus.NOT_STARTED else None


@pytest.mark.slow
def test_an_asset_graph_backfill_waits_for_the_nightly_run_in_the_pool(slow_night: Night):
    night = slow_night
    nightly_id = launch_run(night.services, NIGHTLY_JOB, today().isoformat())
    wait_for(lambda: night.extracting(today()), 120, "the nightly run to start extracting")
    every_asset = [key.path for key in defs.resolve_asset_graph().get_all_asset_keys()]

    backfill_id = launch_asset_backfill(night.services, every_asset, [today().isoformat()])

    waiting = wait_for(lambda: queued_run(night, backfill_id), 120, "the backfill's run queued")
    assert EXTRACT_TAG not in waiting.tags  # not the job's run: the tag limit does not hold it
    for _ in range(3 * DEQUEUE_INTERVAL):  # the daemon passes it over at every dequeue
        assert night.run(waiting.run_id).status == DagsterRunStatus.QUEUED
        assert not night.run(nightly_id).is_finished  # the night is still in progress
        time.sleep(1)
    nightly = wait_for(lambda: finished(night, nightly_id), 240, "the nightly run to end", 1)
    wait_for(lambda: night.extracting(today()), 120, "the backfill's night to start extracting")
    beside = run_badges("run", environment=night.services.environment)
    assert beside.returncode == 1  # nor does `badges run` start beside the backfill's run
    assert f"run {waiting.run_id} of {today()} is in progress" in beside.stderr
    backfill = wait_for(lambda: finished(night, waiting.run_id), 240, "the backfill to end", 1)
    log = night.services.log_tail("dagster-daemon")
    assert nightly.status == backfill.status == DagsterRunStatus.SUCCESS, log
    spans = {run_id: step_spans(night, run_id) for run_id in (nightly_id, waiting.run_id)}
    for run_spans in spans.values():
        assert {step for step, _, _ in run_spans} >= NIGHT_STEPS
    for (step_a, start_a, end_a), (step_b, start_b, end_b) in itertools.product(*spans.values()):
        assert end_a <= start_b or end_b <= start_a, (step_a, step_b)
