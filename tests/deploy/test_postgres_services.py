"""The services on the PostgreSQL instance: `dagster-daemon run` and `dagster-webserver` over a
verbatim copy of deploy/dagster.yaml. A `badges run` killed with SIGKILL is marked failed by the
daemon's run monitoring; the webserver and `badges status` read that outcome from PostgreSQL.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

from pipelines.ops.nightly import NIGHTLY_JOB
from pipelines.ops.runs import worker_pid
from pipelines.sandbox import Faults
from tests.deploy.instance import (
    DEPLOY_YAML,
    dagster_url,
    open_instance,
    prepare_deploy_home,
    run_badges,
)
from tests.ops.conftest import started_api, today
from tests.ops.processes import DagsterServices, wait_for
from tests.services.postgres import PostgresServer

MONITORING_POLL = yaml.safe_load(DEPLOY_YAML.read_text())["run_monitoring"]["poll_interval_seconds"]
DATABASE = "deploy_services"

RUN_STATUS = """
query RunStatus($runId: ID!) {
  runOrError(runId: $runId) { __typename ... on Run { status jobName } }
}
"""


@dataclass
class Deployed:
    services: DagsterServices
    instance: DagsterInstance
    workdir: Path

    def started_run(self) -> DagsterRun | None:
        """The job's run in progress once its process has reported its pid."""
        runs = self.instance.get_runs(RunsFilter(job_name=NIGHTLY_JOB))
        started = runs and runs[0].status == DagsterRunStatus.STARTED
        return runs[0] if started and worker_pid(self.instance, runs[0].run_id) else None

    def status_of(self, run_id: str) -> DagsterRunStatus:
        run = self.instance.get_run_by_id(run_id)
        assert run is not None
        return run.status


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("deploy-services")
    url = dagster_url(postgres, DATABASE)
    workdir = root / "workdir"
    workdir.mkdir()
    # ~500 ms a request over 120 customers: the extraction lasts far longer than the test
    # needs to kill it mid-way.
    with started_api(root, Faults(latency_ms=500), customers=120) as api:
        services = DagsterServices(
            root / "dagster_home",
            api.environment(root / "data", DAGSTER_POSTGRES_URL=url),
            prepare=functools.partial(prepare_deploy_home, postgres_url=url),
        )
        try:
            services.start_daemon()
            services.start_webserver()
            instance = open_instance(services.home, url)
            yield Deployed(services, instance, workdir)
            instance.dispose()
        finally:
            services.stop()


def test_a_killed_badges_run_is_marked_failed_by_run_monitoring_on_postgresql(
    deployed: Deployed,
):
    badges_run = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run"],
        cwd=deployed.workdir,
        env=deployed.services.environment,  # the daemon's DAGSTER_HOME and database
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        run = wait_for(deployed.started_run, 120, "badges run to start and report its pid")
        assert worker_pid(deployed.instance, run.run_id)[0] == badges_run.pid
        os.killpg(badges_run.pid, signal.SIGKILL)  # the CLI and its normalizer child
        killed_at = time.monotonic()
        badges_run.wait(10)

        wait_for(
            lambda: deployed.status_of(run.run_id) == DagsterRunStatus.FAILURE,
            MONITORING_POLL + 10,
            "run monitoring to mark the killed run failed",
        )
        print(f"killed run marked FAILURE {time.monotonic() - killed_at:.1f} s after SIGKILL")
    finally:
        if badges_run.poll() is None:
            os.killpg(badges_run.pid, signal.SIGKILL)
    failure = deployed.instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)
    assert f"pid {badges_run.pid}) is gone" in failure[-1].get_dagster_event().message

    answer = deployed.services.graphql(RUN_STATUS, {"runId": run.run_id})["runOrError"]
    assert answer == {"__typename": "Run", "status": "FAILURE", "jobName": NIGHTLY_JOB}

    status = run_badges("status", environment=deployed.services.environment, cwd=deployed.workdir)
    assert status.returncode == 1, status.stdout + status.stderr
    assert f"last run    nightly_snapshot {today()}: FAILURE (run {run.run_id}, " in status.stdout
    assert f"(pid {badges_run.pid}) is gone" in status.stdout
    assert "no dagster-daemon is running" not in status.stdout  # its heartbeats are in there
