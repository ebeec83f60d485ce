"""`badges status`: the published snapshot, the last run and the next one, in a few lines.

Exit code 0 when the published snapshot is the last due night's (today's, once the
schedule has fired) and the last nightly attempt succeeded; 1 when that attempt failed, the
published snapshot is behind the due night or stale (older than `BADGES_STALE_AFTER_HOURS`,
default 26 h), or the data directory has less free space than the next night needs, so
cron or a monitor can act on it. A failed replay or backfill of a past night is a warning:
the published warehouse is not its. Only the runs of this data directory count. Reading
the Dagster instance lives in `runs`; this module only decides and formats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.lake.iceberg import TableSnapshot
from pipelines.lake.space import DiskSpace
from pipelines.normalize.drift_report import describe_drift
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
    nightly: bool = True  # the night of its own day; else a replay or backfill of a past one

    def describe(self) -> str:
        when = self.ended_at or self.started_at
        if not self.nightly:
            at = f" at {when:%Y-%m-%d %H:%M} UTC" if when else ""
            return f"the rebuild of {self.partition} failed (run {self.run_id}{at})"
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
    # the published snapshot's drift report (`runs.snapshot_drift`); None: none recorded
    drift: tuple | None = None  # as `describe_drift` takes it
    failed_rebuilds: list[RunSummary] = field(default_factory=list)  # past nights: warnings

    @property
    def due_night(self) -> dt.date:
        """The night the schedule last fired for: today from 02:00 UTC, else yesterday."""
        return (next_nightly_run(self.now) - dt.timedelta(days=1)).date()

    @property
    def behind(self) -> bool:
        """The published snapshot is older than the due night, and no run is at it."""
        if self.published is None or self.in_progress is not None:
            return False
        return self.published.snapshot_date < self.due_night

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
        problems = (
            self.stale
            or self.behind
            or self.last_run_failed
            or self.disk_short
            or self.bucket_behind
        )
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
            *[f"warning     {run.describe()}: {run.reason}" for run in self.failed_rebuilds],
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
            problems.append("FAILED: the last nightly run failed")
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
        if self.behind and not self.stale:
            problems.append(
                f"BEHIND: the published snapshot is of {self.published.snapshot_date}, the "
                f"night of {self.due_night} is due"
            )
        if self.disk_short:
            problems.append("SHORT: the next night needs more disk space than is free")
        if problems:
            return "; ".join(problems)
        assert self.published is not None
        age = describe_age(self.published.age(self.now))
        ran = ", the last nightly run succeeded" if self.last_finished else ""
        return f"OK: the published snapshot is {age} old (limit {self.stale_after_hours:g} h){ran}"


def _value(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
