"""The only names the project takes from Dagster's private API (`dagster._core`).

Dagster's public API (the `dagster` package's top-level exports) has no equivalent of these:
- the result a run launcher's worker health check returns (CheckRunHealthResult, WorkerStatus),
  needed by `launcher.LocalRunLauncher` so run monitoring sees a killed run's process;
- the kind and status of a stored schedule state (InstigatorType, InstigatorStatus), needed by
  `runs.schedule_note` to say the nightly schedule is stopped (the public
  DefaultScheduleStatus only describes a schedule's default in code, not its stored state).

A Dagster upgrade that moves or changes them fails tests/ops/test_dagster_private.py, which
names each one, instead of a night or `badges status` in production.
"""

from __future__ import annotations

from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType

__all__ = ["CheckRunHealthResult", "InstigatorStatus", "InstigatorType", "WorkerStatus"]
