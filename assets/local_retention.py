"""Local retention: after the publish, the data directory keeps its last nights."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from assets.progress import step_progress
from assets.snapshot_dates import daily_snapshots, withdraw_nights
from pipelines.night.retention import DEFAULT_KEEP_NIGHTS, retain
from pipelines.ops.nightly import NIGHT_POOL
from pipelines.ops.resources import BucketResource, LakeResource
from pipelines.ops.settings import KEEP_NIGHTS_VARIABLE, iceberg_catalog, keep_nights_option


class RetentionConfig(Config):
    keep_nights: int | None = Field(
        None,
        description=f"Nights of raw archive and lake partitions kept locally (0: all); "
        f"default {KEEP_NIGHTS_VARIABLE} or {DEFAULT_KEEP_NIGHTS}.",
    )


@asset(
    pool=NIGHT_POOL,
    group_name="retention",
    partitions_def=daily_snapshots,
    deps=[AssetKey("published_warehouse")],
    description=(
        "The data directory after local retention: the last nights' raw archives and lake "
        "partitions, and every night a later run still reads or the bucket lacks; older "
        "nights pruned once the history base covers them."
    ),
)
def local_retention(
    context: AssetExecutionContext,
    config: RetentionConfig,
    lake: LakeResource,
    bucket: BucketResource,
) -> MaterializeResult:
    try:
        keep_nights = keep_nights_option(config.keep_nights)
    except ValueError as error:
        raise Failure(str(error), allow_retries=False) from None
    mirror = bucket.mirror(lake.lake)
    catalog = iceberg_catalog(lake.lake, bucket.access())
    with step_progress(context, "retention"):
        retention = retain(lake.lake, keep_nights, mirror, catalog)
    if retention.pruned:
        context.log.info(f"local retention pruned {', '.join(map(str, retention.pruned))}")
    context.log.info(retention.iceberg)
    if mirror is None:  # nothing can replay a pruned night: the UI no longer offers it
        withdraw_nights(context.instance, retention.pruned)
    return MaterializeResult(
        metadata={
            "keep_nights": keep_nights,
            "pruned": MetadataValue.json([str(d) for d in retention.pruned]),
            "protected": MetadataValue.json([str(d) for d in retention.protected]),
            "iceberg": retention.iceberg,
        }
    )
