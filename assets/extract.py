"""Extract and normalize, one step: every API response of the day, archived raw, and the
lake tables flattened from them while they arrive, published past the gates."""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from assets.night_config import NightConfig, night_request
from assets.normalize import LAKE_CHECKS, LAKE_SPECS, lake_results
from assets.progress import step_progress
from assets.snapshot_dates import daily_snapshots
from pipelines.client.errors import ApiUnavailable, AuthenticationFailed
from pipelines.client.rates import RateSpecError
from pipelines.extract.customers import CustomerFileError
from pipelines.extract.gate import SnapshotRefused
from pipelines.lake.damage import DamagedFileError
from pipelines.lake.datadir import DataDirUnusable
from pipelines.lake.iceberg_catalog import CatalogUnavailable
from pipelines.lake.source_record import OtherSource
from pipelines.lake.space import DiskFull, NotEnoughSpace
from pipelines.night.summary import NightSummary
from pipelines.night.volume import METRICS, VOLUME_CHECK, VolumeCheck
from pipelines.normalize.carry import CarryForwardError
from pipelines.ops.night_step import ArchiveMissing, NightStep
from pipelines.ops.nightly import NIGHT_POOL
from pipelines.ops.resources import BucketResource, CapillaryApiResource, LakeResource
from pipelines.ops.settings import iceberg_catalog
from pipelines.ops.source import SourceConfigError

RAW = "raw_api_responses"
STOPPING = (
    AuthenticationFailed,
    ApiUnavailable,
    SnapshotRefused,
    CustomerFileError,
    RateSpecError,
    CarryForwardError,
    NotEnoughSpace,
    DiskFull,
    DamagedFileError,
    ArchiveMissing,
    SourceConfigError,
    DataDirUnusable,
    OtherSource,
    CatalogUnavailable,
)


@multi_asset(
    name=RAW,
    pool=NIGHT_POOL,
    partitions_def=daily_snapshots,
    specs=[
        AssetSpec(
            RAW,
            group_name="extract",
            deps=["bucket_restore"],
            skippable=True,
            description=(
                "Every API response of the snapshot (lists, badge meta, details), as "
                "received; published only when few enough calls failed and no volume "
                "collapsed. Its lake tables are written from them in the same step."
            ),
        ),
        *LAKE_SPECS,
    ],
    check_specs=[
        AssetCheckSpec(
            VOLUME_CHECK,
            asset=RAW,
            blocking=True,
            description=(
                f"The snapshot's {', '.join(METRICS)} have not collapsed against the "
                "published one (run again with --accept-drop when they truly did); a failure "
                "blocks the publish."
            ),
        ),
        *LAKE_CHECKS,
    ],
)
def raw_api_responses(
    context: AssetExecutionContext,
    config: NightConfig,
    capillary_api: CapillaryApiResource,
    lake: LakeResource,
    bucket: BucketResource,
):
    request = night_request(context, config)
    here = lake.lake
    try:
        catalog = iceberg_catalog(here, bucket.access())
        with step_progress(context, "extract+normalize") as log:
            step = NightStep(here, bucket.mirror(here), capillary_api, log, catalog)
            night = step.extract_and_normalize(request)
    except STOPPING as exc:
        raise Failure(str(exc), allow_retries=False) from None
    if night.summary is None:
        metadata = {"replayed_from_archive": True, "path": str(here.raw_dir(request.snapshot_date))}
    else:
        metadata = summary_metadata(night.summary)
    if not night.volume.passed:
        # Refused: the gate's verdict is recorded, then the step stops in its words; nothing
        # is materialized, so no output (nor the lake tables' checks) is left half-declared.
        yield _volume(night.volume)
        raise Failure(
            description=f"snapshot refused: {night.volume.description}",
            metadata=metadata,
            allow_retries=False,
        )
    yield MaterializeResult(asset_key=RAW, metadata=metadata, check_results=[_volume(night.volume)])
    if night.normalized is not None:
        yield from lake_results(context, night.normalized, here, night.iceberg)


def _volume(check: VolumeCheck) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=RAW,
        check_name=VOLUME_CHECK,
        passed=check.passed,
        severity=AssetCheckSeverity.ERROR,
        description=check.description,
        metadata=check.metadata,
    )


def summary_metadata(summary: NightSummary) -> dict[str, object]:
    """One entry per figure of the night's summary, for the UI, and the whole summary once,
    typed, for `badges run`."""
    figures = summary.as_metadata()
    return {
        **{
            name: MetadataValue.json(value) if isinstance(value, dict) else value
            for name, value in figures.items()
        },
        NightSummary.METADATA_KEY: MetadataValue.json(figures),
    }
