"""The warehouse stage: the snapshot loaded into a staging DuckDB file, checked, then published."""

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from assets.analytics import analytics_key, analytics_models
from assets.catalog import (
    COLUMN_SCHEMA,
    contract_schema,
    contract_table_metadata,
    history_metadata,
    warehouse_summary,
)
from assets.normalize import lake_key
from assets.progress import step_progress
from assets.report import earn_report
from assets.snapshot_dates import daily_snapshots, snapshot_date_of
from assets.staging import building_staging
from pipelines.lake.damage import naming_damaged_files
from pipelines.lake.dbfiles import remove_database
from pipelines.lake.tables import TABLES
from pipelines.ops.nightly import NIGHT_POOL
from pipelines.ops.resources import BucketResource, LakeResource
from pipelines.warehouse.checks import (
    CheckOutcome,
    check_archive_list_totals,
    check_listed_badges_have_meta,
    check_snapshot_date,
    check_unique_keys,
)
from pipelines.warehouse.dbt_project import model_names
from pipelines.warehouse.history import (
    EVENT_TABLES,
    VERSIONED_TABLES,
    applied_dates,
    build_history,
    can_apply_incrementally,
)
from pipelines.warehouse.loader import load_snapshot, open_staging, staging_path
from pipelines.warehouse.publish import publish, published_snapshot


def warehouse_key(table: str) -> AssetKey:
    return AssetKey(["warehouse", table])


CUSTOMER_BADGES = warehouse_key("customer_badges")
CHECK_SPECS = [
    *(
        AssetCheckSpec(
            f"unique_key_{name}",
            asset=warehouse_key(name),
            blocking=True,
            description=(
                f"No two rows of main.{name} share ({', '.join(table.key)}); "
                "a failure blocks the publish."
            ),
        )
        for name, table in TABLES.items()
        if table.unique
    ),
    AssetCheckSpec(
        "listed_badges_have_meta",
        asset=CUSTOMER_BADGES,
        blocking=True,
        description=(
            "Every badge the customer lists name has its meta row in main.badges, or an "
            "extract_errors row saying why not; a failure blocks the publish."
        ),
    ),
    AssetCheckSpec(
        "list_totals_match_pagination",
        asset=CUSTOMER_BADGES,
        blocking=True,
        description=(
            "Each customer list holds as many entries as the API's pagination total said; "
            "a failure blocks the publish."
        ),
    ),
]


def check_result(asset_key: AssetKey, outcome: CheckOutcome) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=asset_key,
        check_name=outcome.name,
        passed=outcome.passed,
        severity=AssetCheckSeverity.ERROR,
        description=outcome.description,
        metadata={
            k: MetadataValue.json(v) if isinstance(v, list | dict) else v
            for k, v in outcome.metadata.items()
        },
    )


@multi_asset(
    pool=NIGHT_POOL,
    specs=[
        AssetSpec(
            warehouse_key(name),
            group_name="warehouse",
            deps=[lake_key(name)],
            description=f"main.{name} in the staging warehouse: one row per {table.grain}.",
            metadata={COLUMN_SCHEMA: contract_schema(table)},
        )
        for name, table in TABLES.items()
    ],
    check_specs=CHECK_SPECS,
    partitions_def=daily_snapshots,
)
def warehouse_tables(context: AssetExecutionContext, lake: LakeResource):
    snapshot_date = snapshot_date_of(context)
    with building_staging(lake.lake, snapshot_date, "loading the staging warehouse"):
        with step_progress(context, "load"):
            report = load_snapshot(lake.lake, snapshot_date)
        raw_files = lake.lake.raw_files(snapshot_date)
        with step_progress(context, "checks"), open_staging(lake.lake, snapshot_date) as con:
            unique = {o.name.removeprefix("unique_key_"): o for o in check_unique_keys(con)}
            listed = [check_listed_badges_have_meta(con), check_archive_list_totals(con, raw_files)]
    for name in TABLES:
        key = warehouse_key(name)
        results = [check_result(key, unique[name])] if name in unique else []
        if key == CUSTOMER_BADGES:
            results += [check_result(key, outcome) for outcome in listed]
        yield MaterializeResult(
            asset_key=key,
            metadata=contract_table_metadata(name, report.row_counts[name]),
            check_results=results,
        )


@asset(
    pool=NIGHT_POOL,
    key=["history", "snapshots"],
    group_name="warehouse",
    partitions_def=daily_snapshots,
    deps=[warehouse_key(name) for name in (*VERSIONED_TABLES, *EVENT_TABLES)],
    description=(
        "Schema history: type-2 versions of badges, badge_constraints and customer_badges, "
        "and every issual and earn once; each night applies only its own snapshot (rebuilt "
        "from the lake's snapshots for a rerun, an older backfill or a gap)."
    ),
)
def warehouse_history(
    context: AssetExecutionContext, lake: LakeResource, bucket: BucketResource
) -> MaterializeResult:
    through = snapshot_date_of(context)
    here, mirror = lake.lake, bucket.mirror(lake.lake)
    with (
        step_progress(context, "history"),
        naming_damaged_files(here),
        building_staging(here, through, "building the history"),
        open_staging(here, through) as con,
    ):
        if mirror is not None and not can_apply_incrementally(con, here, through):
            local = set(here.partition_dates("badges"))
            missing = [d for d in applied_dates(con) if d <= through and d not in local]
            if missing:  # the history was built from nights this host lacks: a fresh host
                context.log.info(mirror.restore_nights(missing, raw=False).describe("restored"))
        rows = build_history(con, here, through)
    return MaterializeResult(metadata=history_metadata(staging_path(here, through), rows))


@asset(
    pool=NIGHT_POOL,
    group_name="warehouse",
    partitions_def=daily_snapshots,
    deps=[
        *(warehouse_key(n) for n in TABLES),
        *(analytics_key(m) for m in model_names()),
        AssetKey(["history", "snapshots"]),
    ],
    check_specs=[
        AssetCheckSpec(
            "snapshot_date",
            asset="published_warehouse",
            description="The published warehouse holds the snapshot of the run's date.",
        )
    ],
    description=(
        "The staging warehouse swapped in atomically as warehouse.duckdb. Publishing only "
        "moves forward: rebuilding an older date leaves the newer published snapshot in place."
    ),
)
def published_warehouse(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    snapshot_date = snapshot_date_of(context)
    newest = published_snapshot(lake.lake)
    if newest is not None and newest > snapshot_date:
        remove_database(staging_path(lake.lake, snapshot_date))
        context.log.info(f"{snapshot_date} rebuilt; the newer snapshot {newest} stays published")
        kept = CheckOutcome(
            "snapshot_date",
            True,
            f"{snapshot_date} is older than the published {newest}, which stays published",
            {"expected": snapshot_date.isoformat(), "published": newest.isoformat()},
        )
        return MaterializeResult(
            metadata={"published": False, "kept_snapshot": str(newest)},
            check_results=[check_result(AssetKey("published_warehouse"), kept)],
        )
    publishing = building_staging(lake.lake, snapshot_date, "publishing the warehouse")
    with step_progress(context, "publish"), publishing:
        publish(lake.lake, snapshot_date)
    with duckdb.connect(str(lake.lake.warehouse_path), read_only=True) as con:
        outcome = check_snapshot_date(con, snapshot_date)
    return MaterializeResult(
        metadata={
            "published": True,
            "path": str(lake.lake.warehouse_path),
            "snapshot_date": str(snapshot_date),
            "tables": warehouse_summary(lake.lake.warehouse_path),
        },
        check_results=[check_result(AssetKey("published_warehouse"), outcome)],
    )


warehouse_assets = [
    warehouse_tables,
    warehouse_history,
    analytics_models,
    earn_report,
    published_warehouse,
]
