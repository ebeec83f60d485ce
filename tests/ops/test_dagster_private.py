"""The private Dagster names the project depends on (pipelines/ops/dagster_private.py) still
exist and mean what the launcher and `badges status` rely on. A Dagster upgrade that changes
them fails here, by name, rather than in a night."""

from __future__ import annotations

import inspect
import subprocess

import dagster

from pipelines.ops import dagster_private
from tests.deploy.instance import PROJECT_ROOT


def test_only_dagster_private_imports_dagsters_private_api():
    found = subprocess.run(
        ["grep", "-rln", r"dagster\._", "pipelines", "assets", "--include=*.py"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert found == ["pipelines/ops/dagster_private.py"]


def test_dagster_still_has_no_public_equivalent():
    # When one of these becomes public, import it from `dagster` and drop it from the module.
    assert set(dagster_private.__all__).isdisjoint(dir(dagster))


def test_the_worker_health_result_takes_a_status_and_a_message():
    statuses = {status.name for status in dagster_private.WorkerStatus}
    assert {"RUNNING", "FAILED"} <= statuses
    parameters = list(inspect.signature(dagster_private.CheckRunHealthResult).parameters)
    assert parameters[:2] == ["status", "msg"]
    result = dagster_private.CheckRunHealthResult(dagster_private.WorkerStatus.FAILED, "gone")
    assert (result.status, result.msg) == (dagster_private.WorkerStatus.FAILED, "gone")


def test_a_stored_schedule_state_has_a_type_and_a_stopped_status():
    assert dagster_private.InstigatorType.SCHEDULE.value == "SCHEDULE"
    assert dagster_private.InstigatorStatus.STOPPED.value == "STOPPED"
    assert (
        "instigator_type"
        in inspect.signature(dagster.DagsterInstance.all_instigator_state).parameters
    )
