"""The snapshot dates: one partition per day, and the date of a run."""

import datetime as dt

from dagster import AssetExecutionContext, DailyPartitionsDefinition

# One partition per snapshot day (UTC). end_offset=1 makes today a valid partition: the
# API serves current state, so today's snapshot is the one that can be taken now.
daily_snapshots = DailyPartitionsDefinition(start_date="2026-01-01", end_offset=1, timezone="UTC")


def snapshot_date_of(context: AssetExecutionContext) -> dt.date:
    """The run's snapshot date: its partition."""
    return dt.date.fromisoformat(context.partition_key)
