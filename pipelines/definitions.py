"""The code location: assets, checks, the nightly job and its schedule, sensors, resources."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    build_schedule_from_partitioned_job,
    define_asset_job,
    in_process_executor,
)

from assets.bucket import bucket_copy, bucket_restore
from assets.extract import raw_api_responses
from assets.local_retention import local_retention
from assets.warehouse import warehouse_assets
from pipelines.ops.asset_catalog import with_catalog_attributes
from pipelines.ops.nightly import (
    EXTRACT_TAG,
    NIGHTLY_HOUR_UTC,
    NIGHTLY_JOB,
    NIGHTLY_MINUTE,
    NIGHTLY_SCHEDULE,
    RUN_RETRIES,
)
from pipelines.ops.resources import resources_from_env
from pipelines.ops.sensors import nightly_failure_alert, warehouse_freshness_alert

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
    },
)

nightly_schedule = build_schedule_from_partitioned_job(
    nightly_snapshot,
    hour_of_day=NIGHTLY_HOUR_UTC,
    minute_of_hour=NIGHTLY_MINUTE,
    name=NIGHTLY_SCHEDULE,
    default_status=DefaultScheduleStatus.RUNNING,
)

defs = Definitions(
    assets=with_catalog_attributes(
        [bucket_restore, raw_api_responses, *warehouse_assets, local_retention, bucket_copy]
    ),
    jobs=[nightly_snapshot],
    schedules=[nightly_schedule],
    sensors=[nightly_failure_alert, warehouse_freshness_alert],
    resources=resources_from_env(),
    # One process runs the steps in order: the staging DuckDB file takes one writer at a time.
    executor=in_process_executor,
)
