"""Real Dagster services for the operations tests: `dagster-daemon run` and `dagster-webserver`
over a temporary DAGSTER_HOME whose dagster.yaml is this project's, storage moved inside it.

Every process started here carries a marker variable in its environment, so `stop` finds
and kills all of them, run workers and their children included, even when a test failed
halfway or a process outlived its parent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from dagster import DagsterInstance

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MARKER_VARIABLE = "BADGES_TEST_PROCESS_MARKER"
LOCATION = "badges_warehouse"
REPOSITORY = "__repository__"
STOP_GRACE_SECONDS = 5.0


def instance_yaml(home: Path) -> str:
    """This project's dagster.yaml with its storage directories moved under `home`."""
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    config["storage"] = {"sqlite": {"base_dir": str(home / "storage")}}
    config["local_artifact_storage"]["config"]["base_dir"] = str(home)
    config["compute_logs"]["config"]["base_dir"] = str(home / "logs")
    return yaml.safe_dump(config)


def prepare_home(home: Path) -> Path:
    """A DAGSTER_HOME with this project's instance configuration and its storage created."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(instance_yaml(home))
    # Create the SQLite storage now, before any service does: processes creating it at the
    # same moment can leave two schema versions behind.
    DagsterInstance.from_config(str(home)).dispose()
    return home


def run_badges(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`badges ARGS` as a user runs it, from the project root."""
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def free_port() -> int:
    """A port nobody listened on a moment ago; another process may take it before us."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


IN_USE = ("Address already in use", "[Errno 98]")
WEBSERVER_ATTEMPTS = 5


def wait_for(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def marked_pids(marker: str) -> list[int]:
    """Every process whose environment carries `marker`."""
    needle = f"{MARKER_VARIABLE}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


class DagsterServices:
    """A daemon and (on request) a webserver, started from the project root."""

    def __init__(
        self,
        home: Path,
        environment: dict[str, str],
        prepare: Callable[[Path], Path] = prepare_home,
    ) -> None:
        self.home = home
        self.marker = uuid.uuid4().hex
        self.environment = {**environment, "DAGSTER_HOME": str(home), MARKER_VARIABLE: self.marker}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.port: int | None = None
        prepare(home)  # writes home/dagster.yaml and creates the instance's storage

    def _start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.home / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [str(BIN / name), *args],
            cwd=PROJECT_ROOT,
            env=self.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def start_daemon(self) -> None:
        self._start("dagster-daemon", "run")

    def start_webserver(self) -> None:
        """dagster-webserver on a free port. It takes no port 0 (it serves 3000 then), so
        the port is picked before it binds; when another process took it meanwhile, the
        webserver exits saying so and starts again on another."""
        for _ in range(WEBSERVER_ATTEMPTS):
            self.port = free_port()
            process = self._start("dagster-webserver", "-h", "127.0.0.1", "-p", str(self.port))
            wait_for(
                lambda started=process: started.poll() is not None or self._location_loaded(),
                120,
                "the webserver to load the code location",
                0.5,
            )
            if process.poll() is None:
                return
            self.processes.remove(process)
            if not any(sign in self.log_tail("dagster-webserver", 5) for sign in IN_USE):
                raise AssertionError(f"the webserver exited:\n{self.log_tail('dagster-webserver')}")
        raise AssertionError(f"no free port in {WEBSERVER_ATTEMPTS} attempts")

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.home / f"{name}.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = httpx.post(
            f"http://127.0.0.1:{self.port}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def _location_loaded(self) -> bool:
        try:
            data = self.graphql(LOCATIONS_QUERY)
        except httpx.HTTPError:
            return False
        entries = data["workspaceOrError"].get("locationEntries", [])
        for entry in entries:
            loaded = entry["locationOrLoadError"] or {}
            assert loaded.get("__typename") != "PythonError", loaded.get("message")
            if entry["name"] == LOCATION and entry["loadStatus"] == "LOADED":
                return True
        return False

    def instance(self) -> DagsterInstance:
        return DagsterInstance.from_config(str(self.home))

    def stop(self) -> None:
        for process in self.processes:
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(STOP_GRACE_SECONDS)
        for pid in marked_pids(self.marker):  # run workers, code servers, their children
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not marked_pids(self.marker), 10, "every started process to end")


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


LOCATIONS_QUERY = """
{
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""

LAUNCH_RUN = """
mutation LaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on Error { message }
  }
}
"""

LAUNCH_BACKFILL = """
mutation LaunchBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
"""

PARTITION_SETS = """
query PartitionSets($repositorySelector: RepositorySelector!, $job: String!) {
  partitionSetsOrError(repositorySelector: $repositorySelector, pipelineName: $job) {
    ... on PartitionSets { results { name pipelineName } }
  }
}
"""

REPOSITORY_SELECTOR = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}


def launch_run(services: DagsterServices, job: str, partition: str) -> str:
    """Launches a run the way the UI's launchpad does; returns its run id."""
    params = {
        "selector": {**REPOSITORY_SELECTOR, "jobName": job},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
    }
    result = services.graphql(LAUNCH_RUN, {"executionParams": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def launch_backfill(services: DagsterServices, job: str, partitions: list[str]) -> str:
    """Launches a backfill of a job's partitions, the mutation the UI's backfill dialog makes."""
    variables = {"repositorySelector": REPOSITORY_SELECTOR, "job": job}
    sets = services.graphql(PARTITION_SETS, variables)
    names = [s["name"] for s in sets["partitionSetsOrError"]["results"] if s["pipelineName"] == job]
    assert len(names) == 1, sets
    selector = {"partitionSetName": names[0], "repositorySelector": REPOSITORY_SELECTOR}
    return _launched_backfill(services, {"selector": selector}, partitions)


def launch_asset_backfill(
    services: DagsterServices, asset_paths: list[list[str]], partitions: list[str]
) -> str:
    """Launches a backfill of assets' partitions, as the asset graph's "Materialize" does:
    its runs belong to an ad-hoc asset job, not to a job of the code location."""
    selection = {"assetSelection": [{"path": path} for path in asset_paths]}
    return _launched_backfill(services, selection, partitions)


def _launched_backfill(
    services: DagsterServices, what: dict[str, Any], partitions: list[str]
) -> str:
    params = {**what, "partitionNames": partitions, "fromFailure": False}
    result = services.graphql(LAUNCH_BACKFILL, {"backfillParams": params})
    answer = result["launchPartitionBackfill"]
    assert answer["__typename"] == "LaunchBackfillSuccess", answer
    return answer["backfillId"]
