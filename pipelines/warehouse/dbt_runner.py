"""dbt in this process: the project parsed once per process, then builds that parse nothing.

A night's `dbt build` used to start a dbt process that imported dbt again and parsed the
whole project again: the night's date (`--vars`) and its database path (the profile) are
part of what dbt hashes before it reuses `partial_parse.msgpack`. Here the project is parsed
in this process under fixed values (the same each time, so dbt's partial parse finds nothing
to parse once `sql/target/night/partial_parse.msgpack` exists) and the manifest is kept; each
build is `dbtRunner(manifest=...)`, which skips parsing, with the night's values.

The catalog the models are written to is named after the database file's first dot part
("warehouse" for `warehouse.duckdb` and the staging `warehouse.D.duckdb`), the name the
manifest was parsed with. dbt keeps global state: one command at a time in a process.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from pipelines.warehouse.dbt_project import (
    PROJECT_DIR,
    DbtFailedError,
    dbt_environment,
    night_vars,
    parse_environment,
    project_files,
)

RESULT_EVENTS = frozenset({"LogModelResult", "LogTestResult"})

_DBT = threading.Lock()


@dataclass(frozen=True)
class Prepared:
    """The parsed project: dbt's manifest and what the parse that gave it cost."""

    manifest: Any  # dbt.contracts.graph.manifest.Manifest
    manifest_json: dict[str, Any]  # the same, as target/manifest.json holds it
    fingerprint: str
    parsed_paths: int  # files dbt parsed (not taken from partial_parse.msgpack)
    seconds: float


@dataclass
class NodeResult:
    """A model or test as dbt finished it."""

    kind: str  # "model" or "test"
    name: str
    status: str  # dbt's: success, error, pass, fail, warn, skipped
    seconds: float
    index: int
    total: int

    def line(self) -> str:
        return (
            f"dbt {self.index}/{self.total} {self.kind} {self.name}: "
            f"{self.status.upper()} in {self.seconds:.2f} s"
        )


@dataclass
class Build:
    """A `dbt build`: its outcome, dbt's events (as dicts, dbt's JSON log format) and results."""

    success: bool
    error: BaseException | None
    events: list[dict[str, Any]] = field(default_factory=list)
    results: list[NodeResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def sql_seconds(self) -> float:
        """The time dbt reports for running the models and tests themselves."""
        return sum(result.seconds for result in self.results)


_prepared: dict[Path, Prepared] = {}


def fingerprint(project_dir: Path = PROJECT_DIR) -> str:
    """Changes when a file of the project or the installed dbt changes."""
    digest = hashlib.sha256(installed_version("dbt-core").encode())
    for path in sorted(project_files(project_dir)):
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Sets `variables` while dbt runs in this process: its profile reads the environment."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _project_args(project_dir: Path) -> list[str]:
    return ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]


def night_target(project_dir: Path = PROJECT_DIR) -> Path:
    """Where the nights' parse keeps its state: apart from `target/`, which an analyst's
    `dbt build` (another profile) writes, so that theirs never makes a night parse again."""
    return project_dir / "target" / "night"


def prepare(project_dir: Path = PROJECT_DIR) -> Prepared:
    """The project's manifest, parsed once per process (again only when the project changed)."""
    from dbt.cli.main import dbtRunner

    with _DBT:
        current = fingerprint(project_dir)
        kept = _prepared.get(project_dir)
        if kept is not None and kept.fingerprint == current:
            return kept
        target = night_target(project_dir)
        target.mkdir(parents=True, exist_ok=True)
        started = dt.datetime.now(dt.UTC)
        with (
            (target / ".parse.lock").open("w") as lock,
            _environment(parse_environment(project_dir)),
        ):
            fcntl.flock(lock, fcntl.LOCK_EX)
            args = ["parse", "--quiet", "--log-level-file", "none", "--target-path", str(target)]
            result = dbtRunner().invoke([*args, *_project_args(project_dir)])
            if not result.success:
                raise DbtFailedError(f"dbt parse failed: {result.exception}")
            perf = json.loads((target / "perf_info.json").read_text(encoding="utf-8"))
            manifest_json = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
        kept = Prepared(result.result, manifest_json, current, perf["parsed_path_count"], seconds)
        _prepared[project_dir] = kept
        return kept


def _close_database() -> None:
    """Closes the database dbt built into: dbt-duckdb keeps its DuckDB instance open for the
    process's life (its `keep_open`), which would hold the night's file after the build.
    Through its private `_ENV`: dbt-duckdb has no public way (its `close_all_connections`
    only forgets the instance). tests/warehouse/test_dbt_runner.py fails if that changes."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import reset_adapters

    reset_adapters()  # closes dbt's connections, the instance's cursors
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def _node_result(data: Mapping[str, Any]) -> NodeResult:
    node = data["node_info"]
    return NodeResult(
        kind=node["resource_type"],
        name=node["node_name"],
        status=str(data.get("status") or node.get("node_status", "")),
        seconds=float(data.get("execution_time", 0.0)),
        index=int(data.get("index", 0)),
        total=int(data.get("total") or data.get("num_models") or 0),  # a test names it so
    )


def build(
    database: Path,
    snapshot_date: dt.date | None,
    target: Path,
    environment: Mapping[str, str] | None = None,
    on_result: Callable[[NodeResult], None] | None = None,
    selection: list[str] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> Build:
    """`dbt build` of the models and tests `selection` names (dbt's `--select` arguments;
    all by default) into `database`, in this process, parsing nothing.

    `on_result` is told of each model and test as dbt finishes it (from dbt's thread)."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    prepared = prepare(project_dir)
    outcome = Build(success=False, error=None)

    def collect(message: Any) -> None:
        event = msg_to_dict(message)
        outcome.events.append(event)
        if message.info.name in RESULT_EVENTS and "node_info" in event.get("data", {}):
            result = _node_result(event["data"])
            outcome.results.append(result)
            if on_result is not None:
                on_result(result)

    # --no-write-json: the events carry what the step needs; no artifact is written.
    args = ["build", "--no-write-json", "--target-path", str(target), "--log-path", str(target)]
    args += ["--log-level", "none", "--log-level-file", "none", *_project_args(project_dir)]
    args += selection or []
    if snapshot_date is not None:
        args += ["--vars", night_vars(snapshot_date)]
    variables = {**dbt_environment(database), **(environment or {})}
    started = dt.datetime.now(dt.UTC)
    with _DBT, _environment(variables):
        try:
            result = dbtRunner(manifest=prepared.manifest, callbacks=[collect]).invoke(args)
        finally:
            _close_database()
    outcome.seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    outcome.success = result.success
    outcome.error = result.exception
    return outcome
