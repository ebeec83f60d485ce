"""Sensors that tell someone: a nightly run failed for good, or the warehouse went stale.

Both run in the daemon and are on by default. The failure alert watches every run of the
nightly job in the instance, `badges run` ones included (those execute in process and
belong to no code location, hence `monitor_all_code_locations`). A failure the daemon is
about to retry is only logged: the alert comes when the last attempt fails.
"""

from __future__ import annotations

import datetime as dt

from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from assets.snapshot_dates import offer_nights
from pipelines.ops.alerts import FailedRun, failure_text, post_alert
from pipelines.ops.freshness import (
    WarehouseUnreadable,
    freshness_decision,
    read_published,
    stale_after_hours,
)
from pipelines.ops.nightly import NIGHTLY_JOB
from pipelines.ops.resources import LakeResource
from pipelines.ops.runs import PARTITION_TAG, attempt_number, retry_follows, run_failure_reason

FRESHNESS_INTERVAL_SECONDS = 300
ARCHIVE_INTERVAL_SECONDS = 60


@run_failure_sensor(
    name="nightly_failure_alert",
    monitor_all_code_locations=True,
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Posts an alert (BADGES_ALERT_WEBHOOK) when a nightly_snapshot run fails for good.",
)
def nightly_failure_alert(context: RunFailureSensorContext) -> SkipReason | None:
    # Read the run again: the retry decision is tagged onto it just after the failure event.
    run = context.instance.get_run_by_id(context.dagster_run.run_id) or context.dagster_run
    if run.job_name != NIGHTLY_JOB:
        return SkipReason(f"{run.job_name} is not {NIGHTLY_JOB}")
    reason = run_failure_reason(context.instance, run.run_id)
    if retry_follows(run):
        context.log.info(f"run {run.run_id} failed and will be retried: {reason}")
        return SkipReason("a retry follows")
    failed = FailedRun(
        job=run.job_name,
        run_id=run.run_id,
        partition=run.tags.get(PARTITION_TAG),
        reason=reason,
        attempt=attempt_number(run),
        retried_automatically=run.remote_job_origin is not None,
    )
    post_alert(failure_text(failed), log=context.log)
    return None


@sensor(
    name="warehouse_freshness_alert",
    minimum_interval_seconds=FRESHNESS_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Posts an alert once when the published snapshot gets older than "
        "BADGES_STALE_AFTER_HOURS (26 h by default), and once when it is fresh again."
    ),
)
def warehouse_freshness_alert(context: SensorEvaluationContext, lake: LakeResource) -> SkipReason:
    warehouse = lake.lake.warehouse_path
    try:
        published = read_published(warehouse)
    except WarehouseUnreadable as error:
        return SkipReason(str(error))
    now = dt.datetime.now(dt.UTC)
    decision = freshness_decision(warehouse, published, context.cursor, now, stale_after_hours())
    if decision.alert:
        post_alert(decision.alert, log=context.log)
    context.update_cursor(decision.cursor)
    return SkipReason(decision.summary)


@sensor(
    name="archived_nights",
    minimum_interval_seconds=ARCHIVE_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Offers each night archived in the data directory (one copied in by hand too) as a "
        "snapshot date, so a backfill can rebuild it from its archive."
    ),
)
def archived_nights(context: SensorEvaluationContext, lake: LakeResource) -> SkipReason:
    new = offer_nights(context.instance, lake.lake.raw_dates())
    return SkipReason(f"offered {', '.join(map(str, new))}" if new else "nothing new archived")
