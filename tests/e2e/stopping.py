"""How a stopped night must read: its last console line names the cause and the remedy in
the project's words, the failed run's headline in the UI (its step failure) says the same,
and nothing of Dagster's internals or a traceback shows."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance

from pipelines.ops.runs import step_failure_message

INTERNALS = ("Traceback", "dagster.", "Dagster", "_core", "Error:", "Error(")


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout.rstrip("\n").splitlines()[-1]


def headlines(home: Path, run_id: str) -> list[str]:
    """What the UI shows as the failed run's headline: each failed step's own message."""
    with DagsterInstance.from_config(str(home)) as instance:
        failures = instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)
    return [step_failure_message(entry) for entry in failures]


def assert_stopped_in_our_words(
    done: subprocess.CompletedProcess[str], home: Path, step: str, message: str
) -> None:
    """The run stopped at `step` with `message` as its console's last line and its headline."""
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert last_line(done) == f"  {step}: {message}", output
    for internal in INTERNALS:
        assert internal not in output, (internal, output)
    run_id = re.search(r"NOT published \(run ([0-9a-f-]+)\)", done.stdout)
    assert run_id, done.stdout
    assert headlines(home, run_id.group(1)) == [f"{step}: {message}"]
