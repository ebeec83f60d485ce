"""The bucket copy: after the local publish, the night goes to the system of record."""

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, asset

from assets.extract import snapshot_date_of
from assets.snapshot_dates import daily_snapshots
from pipelines.lake.mirror import mirror_of
from pipelines.lake.objectstore import BucketError
from pipelines.ops.nightly import NIGHT_POOL
from pipelines.ops.resources import LakeResource


@asset(
    pool=NIGHT_POOL,
    group_name="warehouse",
    partitions_def=daily_snapshots,
    deps=[AssetKey("published_warehouse")],
    description=(
        "The published night in the bucket (BADGES_BUCKET_URL): raw archive, lake "
        "partitions, night record and warehouse, each verified, then the pointer "
        "latest.json. Nights the bucket missed are uploaded first."
    ),
)
def bucket_copy(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    mirror = mirror_of(lake.lake)
    if mirror is None:
        return MaterializeResult(metadata={"bucket": "none: BADGES_BUCKET_URL is unset"})
    try:
        transfer = mirror.upload_pending()
    except BucketError as error:
        raise Failure(
            f"{snapshot_date_of(context)} is published here but not in the bucket: {error}; "
            "the next run uploads it first"
        ) from None
    context.log.info(transfer.describe("uploaded"))
    return MaterializeResult(
        metadata={
            "bucket": mirror.bucket.url,
            "nights": [d.isoformat() for d in transfer.dates],
            "objects": transfer.objects,
            "bytes": transfer.bytes,
            "seconds": round(transfer.seconds, 3),
        }
    )
