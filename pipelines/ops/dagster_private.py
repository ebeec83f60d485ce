"""The only names the project takes from Dagster's private API (`dagster._core`).

Dagster's public API (the `dagster` package's top-level exports) has no equivalent of these:
- the result a run launcher's worker health check returns (CheckRunHealthResult, WorkerStatus),
  needed by `launcher.LocalRunLauncher` so run monitoring sees a killed run's process;
- the kind and status of a stored schedule state (InstigatorType, InstigatorStatus), needed by
  `runs.schedule_note` to say the nightly schedule is stopped (the public
  DefaultScheduleStatus only describes a schedule's default in code, not its stored state).

And one of dagster-dbt's: `DbtCliResource._cli_version`, which runs `dbt --version` (a
whole dbt start-up, about 3 s) once per process. `known_dbt_version` gives it the version of
the dbt-core package installed beside this interpreter, which is the dbt the night runs.

A Dagster upgrade that moves or changes them fails tests/ops/test_dagster_private.py, which
names each one, instead of a night or `badges status` in production.
"""

from __future__ import annotations

from importlib.metadata import version as installed_version

from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType
from dagster_dbt import DbtCliResource
from packaging.version import Version

__all__ = ["CheckRunHealthResult", "InstigatorStatus", "InstigatorType", "WorkerStatus"]


def known_dbt_version(cli: DbtCliResource) -> DbtCliResource:
    """`cli`, told the installed dbt-core's version instead of asking `dbt --version`."""
    cli.__dict__["_cli_version"] = Version(installed_version("dbt-core"))
    return cli
