from dagster import DailyPartitionsDefinition

# One partition per snapshot day (UTC). end_offset=1 makes today a valid partition: the
# API serves current state, so today's snapshot is the one that can be taken now.
daily_snapshots = DailyPartitionsDefinition(start_date="2026-01-01", end_offset=1, timezone="UTC")
