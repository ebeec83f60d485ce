"""The verdict of `badges status` from what it read, at a given moment: the published
snapshot against the last due night, the last nightly attempt, failed rebuilds of past
nights as warnings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.ops.freshness import PublishedSnapshot
from pipelines.ops.status import RunSummary, StatusReport

DAY = dt.date(2026, 12, 8)
AFTER_THE_SCHEDULE = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC)
BEFORE_THE_SCHEDULE = dt.datetime(2026, 12, 8, 1, 30, tzinfo=dt.UTC)
# Yesterday's snapshot is 25 h 30 min old here: not stale, but behind the night now due.
SOON_AFTER_THE_SCHEDULE = dt.datetime(2026, 12, 8, 4, 0, tzinfo=dt.UTC)


def published(snapshot_date: dt.date, loaded_at: dt.datetime) -> PublishedSnapshot:
    return PublishedSnapshot(
        Path("warehouse.duckdb"), {"snapshot_date": snapshot_date, "loaded_at": loaded_at}
    )


def nightly(partition: dt.date, status: str, reason: str | None = None) -> RunSummary:
    ended = dt.datetime.combine(partition, dt.time(2, 40), dt.UTC)
    return RunSummary("run-n", status, partition.isoformat(), ended, ended, reason)


def report(now: dt.datetime, snapshot: dt.date, **runs: object) -> StatusReport:
    loaded = dt.datetime.combine(snapshot, dt.time(2, 30), dt.UTC)
    return StatusReport(
        now=now,
        warehouse=Path("warehouse.duckdb"),
        published=published(snapshot, loaded),
        stale_after_hours=26,
        **runs,
    )


@pytest.mark.parametrize(
    ("now", "snapshot", "code", "verdict"),
    [
        (AFTER_THE_SCHEDULE, DAY, 0, "OK: the published snapshot is 6 h 30 min old"),
        (BEFORE_THE_SCHEDULE, DAY - dt.timedelta(days=1), 0, "OK: the published snapshot"),
        (
            SOON_AFTER_THE_SCHEDULE,
            DAY - dt.timedelta(days=1),
            1,
            "BEHIND: the published snapshot is of 2026-12-07, the night of 2026-12-08 is due",
        ),
    ],
    ids=["today's after the schedule", "yesterday's before it", "yesterday's after it"],
)
def test_the_published_snapshot_is_judged_against_the_last_due_night(
    now: dt.datetime, snapshot: dt.date, code: int, verdict: str
):
    status = report(now, snapshot, last_finished=nightly(snapshot, "SUCCESS"))

    assert status.exit_code == code
    assert status.lines()[-1].startswith(verdict), status.lines()[-1]


def test_a_failed_rebuild_of_a_past_night_is_a_warning_with_its_date_and_cause():
    past = DAY - dt.timedelta(days=4)
    ended = dt.datetime(2026, 12, 8, 8, 15, tzinfo=dt.UTC)
    rebuild = RunSummary(
        "run-r",
        "FAILURE",
        past.isoformat(),
        ended,
        ended,
        "raw_api_responses: part-0.parquet cannot be read",
        nightly=False,
    )

    status = report(
        AFTER_THE_SCHEDULE,
        DAY,
        last_finished=nightly(DAY, "SUCCESS"),
        failed_rebuilds=[rebuild],
    )

    assert status.exit_code == 0
    assert (
        f"warning     the rebuild of {past} failed (run run-r at 2026-12-08 08:15 UTC): "
        "raw_api_responses: part-0.parquet cannot be read"
    ) in status.lines()
    assert status.lines()[-1].endswith("the last nightly run succeeded")


def test_a_failed_nightly_attempt_fails_the_status_though_the_snapshot_is_due():
    status = report(
        AFTER_THE_SCHEDULE,
        DAY,
        last_finished=nightly(DAY, "FAILURE", "raw_api_responses: API unreachable"),
    )

    assert status.exit_code == 1
    assert "  reason    raw_api_responses: API unreachable" in status.lines()
    assert status.lines()[-1] == "FAILED: the last nightly run failed"
