"""The code location: assets, checks, the nightly job and its schedule, and resources."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    Definitions,
    build_schedule_from_partitioned_job,
    define_asset_job,
    in_process_executor,
)

from assets.extract import raw_api_responses
from assets.normalize import lake_tables
from assets.warehouse import warehouse_assets
from pipelines.resources import resources_from_env

NIGHTLY_JOB = "nightly_snapshot"

nightly_snapshot = define_asset_job(
    NIGHTLY_JOB,
    selection=AssetSelection.all(),
    description="Extract the API, normalize to Parquet, load, model and publish the warehouse.",
)

nightly_schedule = build_schedule_from_partitioned_job(
    nightly_snapshot, hour_of_day=2, minute_of_hour=0, name="nightly_snapshot_schedule"
)

defs = Definitions(
    assets=[raw_api_responses, lake_tables, *warehouse_assets],
    jobs=[nightly_snapshot],
    schedules=[nightly_schedule],
    resources=resources_from_env(),
    # One process runs the steps in order: the staging DuckDB file takes one writer at a time.
    executor=in_process_executor,
)
