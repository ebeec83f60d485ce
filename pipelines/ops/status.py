"""`badges status`: the published snapshot, the last run and the next one, in a few lines.

Exit code 0 when the last finished run succeeded and the snapshot is fresh, 1 when the last
run failed, the snapshot is stale (older than `BADGES_STALE_AFTER_HOURS`, default 26 h) or
the data directory has less free space than the next night needs, so cron or a monitor can
act on it. Reading the Dagster instance lives in `runs`; this
module only decides and formats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.lake.iceberg import TableSnapshot
from pipelines.lake.space import DiskSpace
from pipelines.normalize.drift_report import DriftEntries, describe_drift
from pipelines.ops.freshness import PublishedSnapshot, describe_age, is_stale
from pipelines.ops.nightly import NIGHTLY_JOB, NIGHTLY_SCHEDULE, next_nightly_run

FAILED = "FAILURE"


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    status: str  # Dagster's run status: SUCCESS, FAILURE, STARTED, QUEUED...
    partition: str | None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    reason: str | None = None  # why it failed

    def describe(self) -> str:
        when = self.ended_at or self.started_at
        at = f", {when:%Y-%m-%d %H:%M} UTC" if when else ""
        partition = self.partition or "(no partition)"
        return f"{NIGHTLY_JOB} {partition}: {self.status} (run {self.run_id}{at})"


@dataclass(frozen=True)
class StatusReport:
    now: dt.datetime
    warehouse: Path
    published: PublishedSnapshot | None
    stale_after_hours: float
    last_finished: RunSummary | None = None
    in_progress: RunSummary | None = None
    schedule_note: str | None = None  # e.g. the schedule is stopped or no daemon runs
    unreadable: str | None = None  # why the warehouse could not be read
    bucket: tuple[bool, str] | None = None  # up to date, and a line; None: no bucket
    disk: DiskSpace | None = None  # the data directory's free space against a night's need
    # the published snapshot's drift report (new keys, wrong types); None: none recorded
    drift: tuple[DriftEntries, DriftEntries] | None = None
    # the Iceberg catalog in words, and each table's current snapshot (None: no answer)
    iceberg: tuple[str, list[TableSnapshot] | None] | None = None

    @property
    def stale(self) -> bool:
        return is_stale(self.published, self.now, self.stale_after_hours)

    @property
    def last_run_failed(self) -> bool:
        return self.last_finished is not None and self.last_finished.status == FAILED

    @property
    def exit_code(self) -> int:
        problems = self.stale or self.last_run_failed or self.disk_short or self.bucket_behind
        return 1 if problems else 0

    @property
    def bucket_behind(self) -> bool:
        return self.bucket is not None and not self.bucket[0]

    @property
    def disk_short(self) -> bool:
        return self.disk is not None and self.disk.short

    def lines(self) -> list[str]:
        return [
            *self._published_lines(),
            *self._drift_lines(),
            *self._run_lines(),
            *self._schedule_lines(),
            *self._iceberg_lines(),
            *([f"bucket      {self.bucket[1]}"] if self.bucket else []),
            *([f"disk        {self.disk.describe()}"] if self.disk else []),
            self._verdict(),
        ]

    def _published_lines(self) -> list[str]:
        lines = [f"warehouse   {self.warehouse}"]
        if self.unreadable:
            return [*lines, f"published   unknown: {self.unreadable}"]
        if self.published is None:
            return [*lines, "published   nothing yet"]
        p = self.published
        lines.append(
            f"published   snapshot {p.snapshot_date}, loaded {p.loaded_at:%Y-%m-%d %H:%M:%S} UTC "
            f"({describe_age(p.age(self.now))} ago)"
        )
        width = max(len(name) for name in p.columns)
        lines += [f"  {name:<{width}}  {_value(value)}" for name, value in p.columns.items()]
        return lines

    def _drift_lines(self) -> list[str]:
        if self.drift is None:
            return []
        first, *rest = describe_drift(*self.drift)
        return [f"drift       {first.removeprefix('drift: ')}", *rest]

    def _iceberg_lines(self) -> list[str]:
        if self.iceberg is None:
            return []
        catalog, snapshots = self.iceberg
        if snapshots is None:
            return [f"iceberg     {catalog}"]
        lines = [f"iceberg     {catalog}"]
        width = max((len(s.table) for s in snapshots), default=0)
        for s in snapshots:
            if s.snapshot_id is None:
                lines.append(f"  {s.table:<{width}}  no snapshot yet")
                continue
            at = f", committed {_value(s.committed_at)}" if s.committed_at else ""
            lines.append(f"  {s.table:<{width}}  snapshot {s.snapshot_id} of {s.snapshot_date}{at}")
        return lines

    def _run_lines(self) -> list[str]:
        if self.last_finished is None and self.in_progress is None:
            return ["last run    none recorded in this Dagster instance"]
        lines = []
        if self.last_finished is not None:
            lines.append(f"last run    {self.last_finished.describe()}")
            if self.last_finished.reason:
                lines.append(f"  reason    {self.last_finished.reason}")
        if self.in_progress is not None:
            lines.append(f"running     {self.in_progress.describe()}")
            if self.in_progress.reason:
                lines.append(f"  note      {self.in_progress.reason}")
        return lines

    def _schedule_lines(self) -> list[str]:
        upcoming = next_nightly_run(self.now)
        line = (
            f"next run    {upcoming:%Y-%m-%d %H:%M} UTC, in {describe_age(upcoming - self.now)} "
            f"(schedule {NIGHTLY_SCHEDULE})"
        )
        return [line] + ([f"  note      {self.schedule_note}"] if self.schedule_note else [])

    def _verdict(self) -> str:
        problems = []
        if self.last_run_failed:
            problems.append("FAILED: the last run failed")
        if self.bucket_behind:
            problems.append("BUCKET: " + self.bucket[1])
        if self.unreadable:
            problems.append("UNKNOWN: the published snapshot could not be read")
        elif self.stale:
            age = (
                f"is {describe_age(self.published.age(self.now))} old"
                if self.published
                else "does not exist"
            )
            problems.append(
                f"STALE: the published snapshot {age} (limit {self.stale_after_hours:g} h)"
            )
        if self.disk_short:
            problems.append("SHORT: the next night needs more disk space than is free")
        if problems:
            return "; ".join(problems)
        assert self.published is not None
        age = describe_age(self.published.age(self.now))
        ran = ", the last run succeeded" if self.last_finished else ""
        return f"OK: the published snapshot is {age} old (limit {self.stale_after_hours:g} h){ran}"


def _value(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
