"""The earn report: four charts of the published snapshot, written beside the warehouse."""

import duckdb
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from assets.progress import step_progress
from assets.snapshot_dates import daily_snapshots, snapshot_date_of
from pipelines.ops.nightly import NIGHT_POOL
from pipelines.ops.resources import LakeResource
from pipelines.warehouse.publish import published_snapshot


@asset(
    group_name="analytics",
    pool=NIGHT_POOL,
    partitions_def=daily_snapshots,
    deps=[AssetKey("published_warehouse")],
    description=(
        "HTML report under reports/, read from the published warehouse: earns per week (per "
        "day over short spans) of the top badges, the badge funnel, time to earn and the "
        "earns expiring in the next 30 days, as embedded PNG charts that open offline. "
        "A failed report never holds back the night's data."
    ),
)
def earn_report(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    snapshot_date = snapshot_date_of(context)
    published = published_snapshot(lake.lake)
    if published != snapshot_date:
        context.log.info(f"the published snapshot is {published}: no report for {snapshot_date}")
        return MaterializeResult(metadata={"skipped": f"published snapshot is {published}"})
    # Imported here: matplotlib and pandas cost ~100 MB and 0.5 s that loading the code
    # location (webserver, daemon, every run) need not pay.
    from pipelines.report.page import write_earn_report

    with (
        step_progress(context, "report"),
        duckdb.connect(str(lake.lake.warehouse_path), read_only=True) as con,
    ):
        report = write_earn_report(con, lake.lake.root, snapshot_date)
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(report.path)),
            "top_badges": MetadataValue.json(report.top_badge_names),
            "report": MetadataValue.md(report.summary_markdown()),
        }
    )
