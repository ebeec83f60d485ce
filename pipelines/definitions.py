"""The code location: assets, checks, the nightly job and its schedule, sensors, resources."""

from __future__ import annotations

import datetime as dt

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    in_process_executor,
    schedule,
)

from assets.bucket import bucket_copy, bucket_restore
from assets.extract import raw_api_responses
from assets.local_retention import local_retention
from assets.snapshot_dates import offer_nights
from assets.warehouse import warehouse_assets
from pipelines.ops.asset_catalog import with_catalog_attributes
from pipelines.ops.nightly import (
    DATA_DIR_TAG,
    EXTRACT_TAG,
    NIGHTLY_HOUR_UTC,
    NIGHTLY_JOB,
    NIGHTLY_MINUTE,
    NIGHTLY_SCHEDULE,
    RUN_RETRIES,
)
from pipelines.ops.resources import resources_from_env
from pipelines.ops.sensors import (
    archived_nights,
    nightly_failure_alert,
    warehouse_freshness_alert,
)
from pipelines.ops.settings import data_directory

nightly_snapshot = define_asset_job(
    NIGHTLY_JOB,
    selection=AssetSelection.all(),
    description="Extract the API, normalize to Parquet, load, model and publish the warehouse.",
    tags={
        # The daemon retries a failed run (dagster.yaml run_retries) from the failed step on.
        "dagster/max_retries": str(RUN_RETRIES),
        "dagster/retry_strategy": "FROM_FAILURE",
        # The run queue lets one run with this tag run at a time (dagster.yaml): the pool
        # badges_night alone let a job backfill's runs, queued together, start side by side.
        EXTRACT_TAG: "1",
        # `badges status` reads the runs of its own data directory only.
        DATA_DIR_TAG: str(data_directory().root),
    },
)


@schedule(
    job=nightly_snapshot,
    cron_schedule=f"{NIGHTLY_MINUTE} {NIGHTLY_HOUR_UTC} * * *",
    execution_timezone="UTC",
    name=NIGHTLY_SCHEDULE,
    default_status=DefaultScheduleStatus.RUNNING,
)
def nightly_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    """Tonight's night, added to the snapshot dates with the nights archived here."""
    fired = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    night = fired.astimezone(dt.UTC).date()
    offer_nights(context.instance, [*data_directory().raw_dates(), night])
    return RunRequest(run_key=night.isoformat(), partition_key=night.isoformat())


defs = Definitions(
    assets=with_catalog_attributes(
        [bucket_restore, raw_api_responses, *warehouse_assets, local_retention, bucket_copy]
    ),
    jobs=[nightly_snapshot],
    schedules=[nightly_schedule],
    sensors=[nightly_failure_alert, warehouse_freshness_alert, archived_nights],
    resources=resources_from_env(),
    # One process runs the steps in order: the staging DuckDB file takes one writer at a time.
    executor=in_process_executor,
)
