"""A night through deploy/dagster.yaml: `badges run` against the embedded sandbox records its
run and events in PostgreSQL, and `badges status` reads them back from there. Both run from a
working directory of their own: nothing of the instance depends on where they start."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterEventType

from tests.clock import today
from tests.deploy.instance import clean_environment, dagster_url, prepare_deploy_home, run_badges
from tests.services.postgres import PostgresServer

DATABASE = "deploy_night"


@dataclass
class Night:
    postgres: PostgresServer
    home: Path
    workdir: Path
    environment: dict[str, str]
    done: subprocess.CompletedProcess[str]

    def query(self, sql: str, *parameters: object) -> list[tuple]:
        with contextlib.closing(self.postgres.connect(DATABASE)) as con, con.cursor() as cursor:
            cursor.execute(sql, parameters)
            return cursor.fetchall()


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer) -> Iterator[Night]:
    root = tmp_path_factory.mktemp("deploy-night")
    url = dagster_url(postgres, DATABASE)
    home = prepare_deploy_home(root / "dagster_home", url)
    workdir = root / "workdir"
    workdir.mkdir()
    environment = clean_environment(  # CAPILLARY_BASE_URL unset: the embedded sandbox
        DAGSTER_HOME=str(home), DAGSTER_POSTGRES_URL=url, BADGES_DATA_DIR=str(root / "data")
    )
    done = run_badges("run", environment=environment, cwd=workdir)
    yield Night(postgres, home, workdir, environment, done)


def test_badges_run_records_its_run_and_events_in_postgresql(night: Night):
    assert night.done.returncode == 0, night.done.stdout + night.done.stderr
    assert f"snapshot {today()} published" in night.done.stdout

    runs = night.query("SELECT run_id, pipeline_name, status, partition FROM runs")
    assert len(runs) == 1
    run_id, job, status, partition = runs[0]
    assert (job, status, partition) == ("nightly_snapshot", "SUCCESS", today().isoformat())
    events = night.query(
        "SELECT dagster_event_type, count(*) FROM event_logs"
        " WHERE run_id = %s AND dagster_event_type IS NOT NULL GROUP BY 1",
        run_id,
    )
    counts = {DagsterEventType(name): count for name, count in events}
    assert counts[DagsterEventType.RUN_START] == 1
    assert counts[DagsterEventType.RUN_SUCCESS] == 1
    assert counts[DagsterEventType.ASSET_MATERIALIZATION] >= 4  # raw, lake, warehouse, models
    assert counts[DagsterEventType.STEP_SUCCESS] >= 4
    assert DagsterEventType.STEP_FAILURE not in counts
    tagged = night.query(
        "SELECT value FROM run_tags WHERE run_id = %s AND key = %s", run_id, "badges/extract"
    )
    assert tagged == [("1",)]


def test_the_instance_keeps_no_sqlite_and_writes_nothing_to_the_working_directory(night: Night):
    assert night.done.returncode == 0, night.done.stdout + night.done.stderr
    ((run_id,),) = night.query("SELECT run_id FROM runs")
    assert list(night.home.rglob("*.db")) == []  # no SQLite run or event storage
    assert (night.home / "storage" / run_id / "compute_logs").is_dir()  # under DAGSTER_HOME
    assert list(night.workdir.iterdir()) == []


def test_badges_status_reads_the_run_from_postgresql(night: Night):
    assert night.done.returncode == 0, night.done.stdout + night.done.stderr
    ((run_id,),) = night.query("SELECT run_id FROM runs")

    status = run_badges("status", environment=night.environment, cwd=night.workdir)

    assert status.returncode == 0, status.stdout + status.stderr
    lines = status.stdout.splitlines()
    assert f"published   snapshot {today()}, loaded " in status.stdout
    last_run = next(line for line in lines if line.startswith("last run    "))
    assert last_run.startswith(f"last run    nightly_snapshot {today()}: SUCCESS (run {run_id}, ")
    assert lines[-1].startswith("OK: the published snapshot is ")
    assert lines[-1].endswith("the last nightly run succeeded")
