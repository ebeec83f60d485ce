"""The bucket, the system of record: what the night needs from it is restored before the
night, and the published night is copied to it after."""

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, asset

from assets.night_config import NightConfig, night_request
from assets.progress import step_progress
from assets.snapshot_dates import daily_snapshots, offer_nights, snapshot_date_of
from pipelines.lake.datadir import DataDirUnusable, ensure_data_dir
from pipelines.lake.objectstore import BucketError
from pipelines.ops.night_step import restore_before_night
from pipelines.ops.nightly import NIGHT_POOL
from pipelines.ops.resources import BucketResource, LakeResource

NO_BUCKET = {"bucket": "none: BADGES_BUCKET_URL is unset"}


@asset(
    pool=NIGHT_POOL,
    group_name="bucket",
    partitions_def=daily_snapshots,
    description=(
        "Before the night's first call: the nights the bucket (BADGES_BUCKET_URL) missed "
        "uploaded, and what the night needs that this data directory lacks restored (the "
        "published warehouse, the archives details are reused from, the last night's "
        "partitions, tonight's checkpoint; for a replay, the night's archive)."
    ),
)
def bucket_restore(
    context: AssetExecutionContext, config: NightConfig, lake: LakeResource, bucket: BucketResource
) -> MaterializeResult:
    request = night_request(context, config)
    with step_progress(context, "restore") as log:
        try:
            ensure_data_dir(lake.lake.root)
        except DataDirUnusable as error:
            raise Failure(str(error), allow_retries=False) from None
        mirror = bucket.mirror(lake.lake)
        if mirror is None:
            log.info("restore: nothing to restore, BADGES_BUCKET_URL is unset")
            return MaterializeResult(metadata=NO_BUCKET)
        try:
            lines = restore_before_night(request, lake.lake, mirror)
        except BucketError as error:
            raise Failure(f"no API call made: {error}") from None
        for line in lines:
            log.info(line)
        offer_nights(context.instance, lake.lake.raw_dates())  # the nights restored can be replayed
    return MaterializeResult(metadata={"bucket": mirror.bucket.url, "restored": "\n".join(lines)})


@asset(
    pool=NIGHT_POOL,
    group_name="bucket",
    partitions_def=daily_snapshots,
    deps=[AssetKey("published_warehouse")],
    description=(
        "The published night in the bucket (BADGES_BUCKET_URL): raw archive, lake "
        "partitions, night record and warehouse, each verified, then the pointer "
        "latest.json. Nights the bucket missed are uploaded first."
    ),
)
def bucket_copy(
    context: AssetExecutionContext, lake: LakeResource, bucket: BucketResource
) -> MaterializeResult:
    with step_progress(context, "bucket") as log:
        mirror = bucket.mirror(lake.lake)
        if mirror is None:
            log.info("bucket: nothing to copy, BADGES_BUCKET_URL is unset")
            return MaterializeResult(metadata=NO_BUCKET)
        try:
            transfer = mirror.upload_pending()
        except BucketError as error:
            raise Failure(
                f"{snapshot_date_of(context)} is published here but not in the bucket: "
                f"{error}; the next run uploads it first"
            ) from None
        log.info(transfer.describe("uploaded"))
    return MaterializeResult(
        metadata={
            "bucket": mirror.bucket.url,
            "nights": [d.isoformat() for d in transfer.dates],
            "objects": transfer.objects,
            "bytes": transfer.bytes,
            "seconds": round(transfer.seconds, 3),
        }
    )
