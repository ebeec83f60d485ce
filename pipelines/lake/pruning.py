"""Local retention: the data directory keeps the raw archive and lake partitions of its
last nights only.

A night is pruned whole (its raw archive and every table's partition) and recorded in
`lake/retention.json`, so that a replay of it can say it was pruned and what to restore.
Which nights must stay whatever their age (the sources of the next night's detail reuse
and carry-forward, the night an unfinished checkpoint builds on) is the caller's to say,
as is keeping the history of the pruned nights (`lake/history_base.duckdb`) before
calling `prune`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

from pipelines.lake.durable import fsync_path, write_text
from pipelines.lake.layout import Lake
from pipelines.lake.tables import TABLES

RAW = "raw"


def snapshot_dates(lake: Lake) -> list[dt.date]:
    """Every date with a raw archive or a partition of some table, oldest first."""
    return sorted({d for table in (RAW, *TABLES) for d in lake.partition_dates(table)})


def expired_dates(lake: Lake, keep_nights: int, protected_dates: set[dt.date]) -> list[dt.date]:
    """The dates older than the newest `keep_nights` ones, except the protected ones."""
    if keep_nights < 1:
        raise ValueError(f"keep_nights must be at least 1, got {keep_nights}")
    dates = snapshot_dates(lake)
    return [d for d in dates[:-keep_nights] if d not in protected_dates]


def prune(lake: Lake, keep_nights: int, protected_dates: set[dt.date]) -> list[dt.date]:
    """Removes the raw archive and lake partitions of every expired date; returns the
    dates removed, oldest first. Each is recorded as pruned before its files go, so a
    crash halfway leaves a date the next prune finishes."""
    removed = expired_dates(lake, keep_nights, protected_dates)
    if not removed:
        return []
    _record(lake, removed)
    for snapshot_date in removed:
        for table in (RAW, *TABLES):
            directory = lake.table_dir(table, snapshot_date)
            if directory.exists():
                shutil.rmtree(directory)
                fsync_path(directory.parent)
    return removed


def pruned_dates(lake: Lake) -> set[dt.date]:
    """Every date local retention has removed from this data directory."""
    path = lake.retention_record_path
    if not path.exists():
        return set()
    return {dt.date.fromisoformat(d) for d in json.loads(path.read_text())["pruned"]}


def _record(lake: Lake, removed: list[dt.date]) -> None:
    dates = sorted(pruned_dates(lake) | set(removed))
    record = {"pruned": [d.isoformat() for d in dates]}
    write_text(json.dumps(record, indent=1), lake.retention_record_path)
