"""The nightly job's name and schedule, shared by the code location and `badges status`."""

from __future__ import annotations

import datetime as dt

NIGHTLY_JOB = "nightly_snapshot"
NIGHTLY_SCHEDULE = "nightly_snapshot_schedule"
NIGHTLY_HOUR_UTC = 2
NIGHTLY_MINUTE = 0
RUN_RETRIES = 2  # the daemon retries a failed run this often (a launch tag may override it)
DATA_DIR_TAG = "badges/data_dir"  # the data directory a run works on
EXTRACT_TAG = "badges/extract"  # the run queue lets one run with this tag run at a time
# Every asset of the night is in this Dagster concurrency pool, limited to 1 in dagster.yaml
# (`concurrency: pools:`, granularity run): one night at a time, whatever launched it.
NIGHT_POOL = "badges_night"


def next_nightly_run(now: dt.datetime) -> dt.datetime:
    """When the schedule fires next after `now` (an aware datetime), in UTC."""
    now = now.astimezone(dt.UTC)
    today = now.replace(hour=NIGHTLY_HOUR_UTC, minute=NIGHTLY_MINUTE, second=0, microsecond=0)
    return today if today > now else today + dt.timedelta(days=1)
