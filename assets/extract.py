"""The extract stage: every API response of the day's snapshot, archived raw, past the gates."""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from assets.snapshot_dates import daily_snapshots
from pipelines.client.errors import ApiUnavailable, AuthenticationFailed
from pipelines.client.rates import RateSpecError
from pipelines.extract.customers import CustomerFileError
from pipelines.extract.gate import SnapshotRefused
from pipelines.lake.damage import DamagedFileError, naming_damaged_files
from pipelines.lake.mirror import mirror_of
from pipelines.lake.objectstore import BucketError
from pipelines.lake.space import DiskFull, NotEnoughSpace
from pipelines.night.heal import heal_last_night
from pipelines.night.night import VolumeRefused, run_night
from pipelines.night.options import NIGHT_HOURS_VARIABLE, NightOptions, night_options
from pipelines.night.retention import keep_nights_option, pruned_message
from pipelines.night.summary import NightSummary
from pipelines.night.tail import SealedTail, resume_sealed_tail
from pipelines.night.volume import DEFAULT_MAX_DROP_SHARE, VOLUME_CHECK, VolumeCheck
from pipelines.normalize.carry import CarryForwardError
from pipelines.normalize.handoff import record_streamed_normalization
from pipelines.ops.nightly import NIGHT_POOL
from pipelines.ops.resources import CapillaryApiResource, LakeResource
from pipelines.ops.source import prepare_source_night

progress_log = logging.getLogger("badges.progress")
T = TypeVar("T")

PAST_WITHOUT_ARCHIVE = (
    "no raw archive for {date}: the Badges API serves only current state, so a past "
    "snapshot can only be rebuilt from its archive, never fetched again"
)
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
)


class ExtractConfig(Config):
    replay: bool = Field(False, description="Rebuild from the raw archive even for today.")
    full_refresh: bool = Field(False, description="Fetch every detail; reuse nothing.")
    refresh_days: int = Field(7, description="Every detail is fetched again this often.")
    rate_limit: str | None = Field(
        None, description="The vendor's limits, e.g. 100/min; default CAPILLARY_RATE_LIMIT."
    )
    rotation_nights: int | None = Field(
        None, description="Fetch each customer's lists every N nights; default: the planner's."
    )
    night_hours: float | None = Field(
        None, description=f"The night's window; default {NIGHT_HOURS_VARIABLE} or 6."
    )
    max_failed_share: float | None = Field(
        None, description="Failed calls allowed; default BADGES_MAX_FAILED_SHARE or 0.005."
    )
    max_drop_share: float = Field(DEFAULT_MAX_DROP_SHARE, description="Volume drop allowed.")
    accept_drop: bool = Field(False, description="Publish even when volumes collapsed.")
    restart: bool = Field(
        False,
        description="Discard the day's checkpoint and start over (a retry of the run resumes).",
    )

    def night_options(self) -> NightOptions:
        return night_options(
            night_hours=self.night_hours,
            max_failed_share=self.max_failed_share,
            refresh_days=self.refresh_days,
            full_refresh=self.full_refresh,
            rotation_nights=self.rotation_nights,
            max_drop_share=self.max_drop_share,
            accept_drop=self.accept_drop,
            restart=self.restart,
        )


def snapshot_date_of(context: AssetExecutionContext) -> dt.date:
    return dt.date.fromisoformat(context.partition_key)


def _log(context: AssetExecutionContext, line: str) -> None:
    context.log.info(line)
    progress_log.info(line)


def _warn(context: AssetExecutionContext, line: str) -> None:
    context.log.warning(line)
    progress_log.warning(f"warning: {line}")


def _volume_result(check: VolumeCheck) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key="raw_api_responses",
        check_name=VOLUME_CHECK,
        passed=check.passed,
        severity=AssetCheckSeverity.ERROR,
        description=check.description,
        metadata=check.metadata,
    )


@asset(
    group_name="extract",
    pool=NIGHT_POOL,
    partitions_def=daily_snapshots,
    check_specs=[AssetCheckSpec(VOLUME_CHECK, asset="raw_api_responses", blocking=True)],
    description=(
        "Every API response of the snapshot (lists, badge meta, details), as received; "
        "published only when few enough calls failed and no volume collapsed."
    ),
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
    mirror = mirror_of(lake.lake)
    if snapshot_date < today or config.replay:
        if not raw_dir.exists() and mirror is not None:
            _log(
                context,
                _bucket(lambda: mirror.restore_nights([snapshot_date])).describe("restored"),
            )
        if not raw_dir.exists():
            message = pruned_message(lake.lake, snapshot_date)
            message = message or PAST_WITHOUT_ARCHIVE.format(date=snapshot_date)
            raise Failure(message, allow_retries=False)
        context.log.info(f"rebuilding {snapshot_date} from its raw archive, no API call")
        replayed = VolumeCheck(True, "rebuilt from the archive: not compared")
        return MaterializeResult(
            metadata={"replayed_from_archive": True, "path": str(raw_dir)},
            check_results=[_volume_result(replayed)],
        )
    options = config.night_options()
    try:
        keep_nights_option()  # a bad BADGES_KEEP_NIGHTS stops the night before its first call
    except ValueError as error:
        raise Failure(str(error), allow_retries=False) from None
    if options.restart and context.run.parent_run_id is not None:
        # A retry (or re-execution) keeps what the restarted attempt fetched.
        options = replace(options, restart=False)
    try:
        if not options.restart:
            with naming_damaged_files(lake.lake):
                tail = resume_sealed_tail(lake.lake, snapshot_date, context.run.run_id)
            if tail is not None:
                return _publish_sealed(context, tail)
        if mirror is not None:
            lines = _bucket(
                lambda: mirror.bring_up_to_date(
                    snapshot_date, options.refresh_days, options.restart
                )
            )
            for line in lines:
                _log(context, line)
        with naming_damaged_files(lake.lake):
            warnings = heal_last_night(lake.lake, snapshot_date)
        for warning in warnings:
            _warn(context, warning)
        with naming_damaged_files(lake.lake), capillary_api.open(config.rate_limit) as source:
            night = prepare_source_night(lake.lake, snapshot_date, source, options)
            warnings += night.resumed.warnings
            for warning in night.resumed.warnings:
                _warn(context, warning)
            where = "the embedded sandbox" if source.is_sandbox else source.settings.base_url
            _log(context, f"extracting from {where}\n{night.plan.describe()}")
            try:
                outcome = run_night(
                    source.settings, night, options, lambda f: _log(context, f.describe())
                )
            except VolumeRefused as refused:
                context.log.error(str(refused))
                refused.summary.file_warnings = warnings
                return MaterializeResult(
                    metadata=_summary_metadata(refused.summary),
                    check_results=[_volume_result(refused.check)],
                )
    except STOPPING as exc:
        raise Failure(str(exc), allow_retries=False) from None
    record_streamed_normalization(raw_dir, context.run.run_id, outcome.normalized)
    outcome.summary.file_warnings = warnings
    return MaterializeResult(
        metadata=_summary_metadata(outcome.summary),
        check_results=[_volume_result(outcome.volume)],
    )


def _publish_sealed(context: AssetExecutionContext, tail: SealedTail) -> MaterializeResult:
    """A sealed night whose run stopped before its publish: published by this run's next
    steps from its archive, without a call."""
    for warning in tail.warnings:
        _warn(context, warning)
    _log(context, tail.describe())
    sealed = VolumeCheck(True, "passed when the night was sealed: not compared again")
    return MaterializeResult(
        metadata=_summary_metadata(NightSummary.of_sealed(tail.note, tail.warnings)),
        check_results=[_volume_result(sealed)],
    )


def _bucket(action: Callable[[], T]) -> T:
    """A bucket step before the night's first call; its failure stops the night there."""
    try:
        return action()
    except BucketError as error:
        raise Failure(f"no API call made: {error}") from None


def _summary_metadata(summary: NightSummary) -> dict[str, object]:
    """One metadata entry per field of the night's summary (mappings as JSON)."""
    return {
        name: MetadataValue.json(value) if isinstance(value, dict) else value
        for name, value in summary.as_metadata().items()
    }
