"""When a run was launched: what decides a night's mode, once, for the whole run.

A night of D launched on D is tonight's (the API is asked); launched after D, it is a
replay of D's archive. The decision is the run's, not its steps': a step that starts after
midnight belongs to a night launched before it. Our launchers (`badges run`, the tests)
tag the run with the launch time; a run launched elsewhere (the UI, the schedule) is
dated by its creation in the instance; a retry or re-execution by its root run's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from dagster import DagsterInstance, DagsterRun

LAUNCHED_AT_TAG = "badges/launched_at"

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def launch_tags(clock: Clock = utc_now) -> dict[str, str]:
    """The tag a launcher gives a run: the launch time, from `clock` (UTC)."""
    return {LAUNCHED_AT_TAG: clock().astimezone(dt.UTC).isoformat()}


def launched_at(run: DagsterRun, instance: DagsterInstance, clock: Clock = utc_now) -> dt.datetime:
    """When `run` (or the run it retries) was launched, in UTC."""
    if tag := run.tags.get(LAUNCHED_AT_TAG):
        return _utc(dt.datetime.fromisoformat(tag))
    record = instance.get_run_record_by_id(run.root_run_id or run.run_id)
    if record is not None and record.create_timestamp is not None:
        return _utc(record.create_timestamp)
    return clock()


def _utc(moment: dt.datetime) -> dt.datetime:
    """`moment` in UTC; the instance stores naive UTC times."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
