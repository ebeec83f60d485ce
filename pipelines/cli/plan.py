"""`badges plan`: tonight's calls per API and their duration under the budgets, before the night.

It reads the configuration (`CAPILLARY_*`, `BADGES_*`) and the lake exactly as a run does
and prints the plan the run would log at its start; it makes no API call (the embedded
sandbox is started only to read its customer list).
"""

from __future__ import annotations

import datetime as dt
import sys

from pipelines.client.rates import RateSpecError
from pipelines.extract.customers import CustomerFileError
from pipelines.lake.space import disk_space
from pipelines.night.tail import unpublished_night
from pipelines.ops.resources import api_from_env
from pipelines.ops.settings import lake_settings, night_options
from pipelines.ops.source import prepare_source_night


def show_plan(
    snapshot_date: dt.date,
    full_refresh: bool = False,
    rotation_nights: int | None = None,
    rate_limit: str | None = None,
    night_hours: float | None = None,
) -> int:
    """Prints the plan; 0 when it fits the night's window (or cannot tell), 1 when it does not,
    2 for a configuration that cannot be read."""
    try:
        options = night_options(
            night_hours=night_hours, full_refresh=full_refresh, rotation_nights=rotation_nights
        )
        with api_from_env().open(rate_limit) as source:
            night = prepare_source_night(
                lake_settings(), snapshot_date, source, options, read_only=True
            )
    except (CustomerFileError, RateSpecError, ValueError) as error:
        print(f"badges plan: error: {error}", file=sys.stderr)
        return 2
    print(night.plan.describe())
    print(f"  disk: {disk_space(night.lake, night.disk).describe()}")
    if unpublished_night(night.lake, snapshot_date) is not None:
        print(
            f"  the archive of {snapshot_date} was sealed by a run that stopped before its "
            "publish: `badges run` publishes it without a call (`--restart` fetches the day "
            "again, as planned above)"
        )
    return 1 if night.plan.fits is False else 0
