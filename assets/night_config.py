"""The run config of a night, shared by its first steps: the bucket restore and the extract."""

from dagster import AssetExecutionContext, Config, Failure
from pydantic import Field

from assets.snapshot_dates import snapshot_date_of
from pipelines.night.volume import DEFAULT_MAX_DROP_SHARE
from pipelines.ops.launch import launched_at
from pipelines.ops.night_step import NightRequest
from pipelines.ops.settings import NIGHT_HOURS_VARIABLE, keep_nights_option, night_options


class NightConfig(Config):
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


def night_request(context: AssetExecutionContext, config: NightConfig) -> NightRequest:
    """The run's night, its options from the config and the settings; a future date or a
    malformed setting stops it before anything is done. Its mode is decided by the day the
    run was launched on (`pipelines.ops.launch`), never by when this step starts."""
    snapshot_date = snapshot_date_of(context)
    today = launched_at(context.run, context.instance).date()
    if snapshot_date > today:
        raise Failure(f"snapshot date {snapshot_date} is in the future (today is {today}, UTC)")
    try:
        keep_nights_option()  # a bad BADGES_KEEP_NIGHTS stops the night before its first call
        options = night_options(
            night_hours=config.night_hours,
            max_failed_share=config.max_failed_share,
            refresh_days=config.refresh_days,
            full_refresh=config.full_refresh,
            rotation_nights=config.rotation_nights,
            max_drop_share=config.max_drop_share,
            accept_drop=config.accept_drop,
            # A retry (or re-execution) keeps what the restarted attempt fetched.
            restart=config.restart and context.run.parent_run_id is None,
        )
    except ValueError as error:
        raise Failure(str(error), allow_retries=False) from None
    return NightRequest(
        snapshot_date,
        options,
        from_archive=snapshot_date < today or config.replay,
        rate_limit=config.rate_limit,
        run_id=context.run.run_id,
    )
