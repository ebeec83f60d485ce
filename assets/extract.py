"""The extract stage: every API response of the day's snapshot, archived raw."""

import datetime as dt
import logging

from dagster import (
    AssetExecutionContext,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.partitions import daily_snapshots
from pipelines.client.errors import AuthenticationFailed
from pipelines.extract import (
    CustomerFileError,
    ReusePolicy,
    extract_to_archive,
    previous_snapshot,
)
from pipelines.normalize.handoff import record_streamed_normalization
from pipelines.resources import CapillaryApiResource, LakeResource

progress_log = logging.getLogger("badges.progress")

PAST_WITHOUT_ARCHIVE = (
    "no raw archive for {date}: the Badges API serves only current state, so a past "
    "snapshot can only be rebuilt from its archive, never fetched again"
)


class ExtractConfig(Config):
    replay: bool = False  # rebuild from the raw archive even for today: no API call
    full_refresh: bool = False  # fetch every detail, reuse nothing from the last snapshot
    refresh_days: int = 7  # every detail is fetched again at least this often


def snapshot_date_of(context: AssetExecutionContext) -> dt.date:
    return dt.date.fromisoformat(context.partition_key)


def _log_progress(context: AssetExecutionContext, line: str) -> None:
    context.log.info(line)
    progress_log.info(line)


@asset(
    group_name="extract",
    partitions_def=daily_snapshots,
    description="Every API response of the snapshot (lists, badge meta, details), as received.",
)
def raw_api_responses(
    context: AssetExecutionContext,
    config: ExtractConfig,
    capillary_api: CapillaryApiResource,
    lake: LakeResource,
) -> MaterializeResult:
    snapshot_date = snapshot_date_of(context)
    today = dt.datetime.now(dt.UTC).date()
    raw_dir = lake.lake.raw_dir(snapshot_date)
    if snapshot_date > today:
        raise Failure(f"snapshot date {snapshot_date} is in the future (today is {today}, UTC)")
    if snapshot_date < today or config.replay:
        if not raw_dir.exists():
            raise Failure(PAST_WITHOUT_ARCHIVE.format(date=snapshot_date), allow_retries=False)
        context.log.info(f"rebuilding {snapshot_date} from its raw archive, no API call")
        return MaterializeResult(metadata={"replayed_from_archive": True, "path": str(raw_dir)})
    try:
        with capillary_api.open() as source:
            context.log.info(
                f"extracting {len(source.customers)} customers from "
                f"{'the embedded sandbox' if source.is_sandbox else source.settings.base_url}"
            )
            report, normalized = extract_to_archive(
                source.settings,
                source.customers,
                raw_dir,
                on_progress=lambda figures: _log_progress(context, figures.describe()),
                reuse=ReusePolicy(
                    snapshot_date,
                    previous_snapshot(lake.lake, snapshot_date),
                    config.refresh_days,
                    config.full_refresh,
                ),
                normalize_into=(lake.lake, snapshot_date),
            )
    except (AuthenticationFailed, CustomerFileError) as exc:
        raise Failure(str(exc), allow_retries=False) from None
    if normalized is not None:
        record_streamed_normalization(raw_dir, context.run.run_id, normalized)
    return MaterializeResult(
        metadata={
            "customers": report.customers,
            "badges": report.badges,
            "pairs": report.pairs,
            "calls": MetadataValue.json(dict(report.calls)),
            "requests": report.requests,
            "requests_per_second": round(report.requests_per_second, 1),
            "retries": report.retries,
            "throttled_429": report.throttled,
            "failed_calls": report.failed_calls,
            "errors_by_code": MetadataValue.json(dict(report.errors_by_code)),
            "lists_refetched": report.lists_refetched,
            "details_reused": report.details_reused,
            "token_renewals": report.token_renewals,
            "bytes_received": report.bytes_received,
            "seconds": round(report.seconds, 2),
            "path": str(raw_dir),
        }
    )
