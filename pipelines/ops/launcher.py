"""Dagster's default run launcher, plus the worker health check run monitoring needs.

The default launcher cannot tell whether a run's process is still alive, so run monitoring
only watches start and cancel timeouts with it. A run whose process was killed (SIGKILL, out
of memory, a reboot) then shows "Started" forever: always for `badges run`, which executes
the job in its own process, and for launched runs whenever their code server went down
with the worker. This launcher answers from the pid each run reports in its event log
(see `liveness`), so the daemon's run monitoring marks such a run failed, and run retries
relaunch it. Local processes only: the instance, the daemon and the runs share one host.
"""

from __future__ import annotations

from dagster import DagsterRun, DefaultRunLauncher

from pipelines.ops.dagster_private import CheckRunHealthResult, WorkerStatus
from pipelines.ops.liveness import process_alive
from pipelines.ops.runs import worker_pid


class LocalRunLauncher(DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        found = worker_pid(self._instance, run.run_id)
        if found is None:  # the process has not reported itself yet
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no process reported yet")
        pid, reported_at = found
        if process_alive(pid, reported_at):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"process {pid} is alive")
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the run's process (pid {pid}) is gone without reporting the end of the run "
            "(killed, out of memory, or the host restarted)",
        )
