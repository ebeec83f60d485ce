"""The snapshot dates: one partition per night that can exist, and the date of a run.

The set is dynamic (docs/operations.md says why): a night's date is added when its run is
launched (`badges run`, the schedule), a night restored from the bucket when it arrives,
and every archived night of the data directory when `badges` or the schedule finds it; a
night pruned where no bucket keeps it is withdrawn. So the UI offers only dates a run can
fill: tonight, and the nights whose raw archive is here or in the bucket.
"""

import datetime as dt
from collections.abc import Iterable

from dagster import AssetExecutionContext, DagsterInstance, DynamicPartitionsDefinition

SNAPSHOT_DATES = "snapshot_dates"
daily_snapshots = DynamicPartitionsDefinition(name=SNAPSHOT_DATES)


def snapshot_date_of(context: AssetExecutionContext) -> dt.date:
    """The run's snapshot date: its partition."""
    return dt.date.fromisoformat(context.partition_key)


def offer_nights(instance: DagsterInstance, dates: Iterable[dt.date]) -> list[dt.date]:
    """Adds the dates the set lacks; returns them."""
    known = set(instance.get_dynamic_partitions(SNAPSHOT_DATES))
    new = sorted({day for day in dates if day.isoformat() not in known})
    if new:
        instance.add_dynamic_partitions(SNAPSHOT_DATES, [day.isoformat() for day in new])
    return new


def withdraw_nights(instance: DagsterInstance, dates: Iterable[dt.date]) -> None:
    """Removes dates no run can fill any more (their archive pruned, no bucket keeps it)."""
    known = set(instance.get_dynamic_partitions(SNAPSHOT_DATES))
    for day in dates:
        if day.isoformat() in known:
            instance.delete_dynamic_partition(SNAPSHOT_DATES, day.isoformat())
