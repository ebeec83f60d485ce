"""The earn report: charts of the snapshot's earns and funnel, written beside the warehouse."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.analytics import analytics_key
from assets.extract import snapshot_date_of
from assets.partitions import daily_snapshots
from pipelines.report import write_earn_report
from pipelines.resources import LakeResource
from pipelines.warehouse.loader import open_staging


@asset(
    group_name="analytics",
    partitions_def=daily_snapshots,
    deps=[analytics_key("earns_daily"), analytics_key("badge_funnel")],
    description=(
        "HTML report under reports/: earns per day of the top badges and the badge funnel, "
        "as inline SVG charts, read from the staging warehouse before it is published."
    ),
)
def earn_report(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    snapshot_date = snapshot_date_of(context)
    with open_staging(lake.lake, snapshot_date) as con:
        report = write_earn_report(con, lake.lake.root, snapshot_date)
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(report.path)),
            "top_badges": MetadataValue.json([s.label for s in report.top_badges]),
            "report": MetadataValue.md(report.summary_markdown()),
        }
    )
