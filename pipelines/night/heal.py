"""Lake partitions that cannot be read, rebuilt from their night's raw archive.

A table partition is derived data: its night's archive holds every answer it was
normalized from, and its night record what was carried forward and from where. So a
partition that cannot be read (a write the disk lost, a file cut short) is rebuilt by
normalizing the archive again, the code path of `badges replay --date D`, and the night
goes on with a warning naming the file. What nothing rebuilds still stops the night with
its remedy (`pipelines.lake.damage`): a partition whose archive is gone, a damaged night
record, a damaged part of the archive itself.

Only the footer of each file is read (a cut-short file has none), so the check costs
milliseconds whatever the night's size.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.extract.incremental import previous_snapshot
from pipelines.lake import Lake
from pipelines.lake.damage import READ_ERRORS, DamagedFileError, read_error_reason, remedy_for
from pipelines.lake.tables import TABLES
from pipelines.normalize.carry import carry_forward_of
from pipelines.normalize.shards import normalize_archive


def unreadable_partitions(lake: Lake, snapshot_date: dt.date) -> list[tuple[Path, str]]:
    """Every file of the date's table partitions whose Parquet footer cannot be read, with
    the reason."""
    damaged = []
    for name in TABLES:
        for path in lake.table_files(name, snapshot_date):
            try:
                pq.read_metadata(path)
            except READ_ERRORS as error:
                damaged.append((path, read_error_reason(error)))
    return damaged


def heal_night(lake: Lake, snapshot_date: dt.date) -> list[str]:
    """Rebuilds the date's partitions from its raw archive when one cannot be read; returns
    a warning per damaged file (none when all are whole). Raises DamagedFileError when the
    archive is gone, or when the archive or its night record cannot be read."""
    damaged = unreadable_partitions(lake, snapshot_date)
    if not damaged:
        return []
    if not lake.raw_files(snapshot_date):
        path, reason = damaged[0]
        raise DamagedFileError(path, reason, remedy_for(lake, path))
    warnings = heal_carried_from(lake, snapshot_date)
    started = time.monotonic()
    normalize_archive(lake.raw_dir(snapshot_date), lake, snapshot_date)
    return warnings + [
        rebuilt_warning(lake, snapshot_date, path, reason, time.monotonic() - started)
        for path, reason in damaged
    ]


def heal_carried_from(lake: Lake, snapshot_date: dt.date) -> list[str]:
    """Heals the snapshot the date's archive carried customers forward from, which its
    normalization reads."""
    carry = carry_forward_of(lake.raw_dir(snapshot_date))
    return heal_night(lake, carry.carried_from) if carry is not None else []


def rebuilt_warning(
    lake: Lake, snapshot_date: dt.date, path: Path, reason: str, seconds: float | None = None
) -> str:
    took = f" ({seconds:.1f} s)" if seconds is not None else ""
    return (
        f"{path} cannot be read ({reason}): rebuilding the partitions of {snapshot_date} from "
        f"its raw archive {lake.raw_dir(snapshot_date)}, as `badges replay --date "
        f"{snapshot_date}` does{took}"
    )


def heal_last_night(lake: Lake, snapshot_date: dt.date) -> list[str]:
    """Heals the snapshot a night of `snapshot_date` plans and carries customers from."""
    previous = previous_snapshot(lake, snapshot_date)
    return heal_night(lake, previous.snapshot_date) if previous is not None else []
