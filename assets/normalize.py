"""The normalize stage: the raw archive flattened into typed Parquet, one per contract table."""

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from assets.catalog import COLUMN_SCHEMA, lake_schema, lake_table_metadata
from assets.extract import raw_api_responses, snapshot_date_of
from assets.partitions import daily_snapshots
from pipelines.lake.damage import naming_damaged_files
from pipelines.lake.tables import TABLES
from pipelines.normalize.handoff import streamed_normalization
from pipelines.normalize.shards import normalize_archive
from pipelines.ops.nightly import NIGHT_POOL
from pipelines.ops.resources import LakeResource


def lake_key(table: str) -> AssetKey:
    return AssetKey(["lake", table])


@multi_asset(
    pool=NIGHT_POOL,
    specs=[
        AssetSpec(
            lake_key(name),
            group_name="normalize",
            deps=[raw_api_responses],
            description=f"Parquet, one row per {table.grain}, one partition per snapshot date.",
            metadata={COLUMN_SCHEMA: lake_schema(table)},
        )
        for name, table in TABLES.items()
    ],
    partitions_def=daily_snapshots,
)
def lake_tables(context: AssetExecutionContext, lake: LakeResource):
    snapshot_date = snapshot_date_of(context)
    raw_dir = lake.lake.raw_dir(snapshot_date)
    report = streamed_normalization(raw_dir, context.run.run_id)
    if report is None:
        with naming_damaged_files(lake.lake):
            report = normalize_archive(raw_dir, lake.lake, snapshot_date)
    else:
        context.log.info("the lake was written while extracting: nothing left to normalize")
    if report.warnings:
        context.log.warning(f"normalizer warnings: {dict(report.warnings)}")
    for name in TABLES:
        warnings = {k: v for k, v in report.warnings.items() if k.startswith(f"{name}.")}
        yield MaterializeResult(
            asset_key=lake_key(name),
            metadata={
                **lake_table_metadata(name, report.rows.get(name, 0)),
                "warnings": sum(warnings.values()),
                "path": str(lake.lake.table_dir(name, snapshot_date)),
            },
        )
