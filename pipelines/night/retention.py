"""Local retention after a published night: the data directory keeps its last nights.

`BADGES_KEEP_NIGHTS` (or `keep_nights` in the retention step's run config) nights of raw
archive and lake partitions stay; 0 keeps every night. Older nights are pruned, except
those a later run still reads: the newest snapshot (the next night carries customers
forward from its partitions and plans from its fingerprints), the nights its reused
details are copied from, the night it carried from, and the same for the snapshot an
unfinished checkpoint (`*.building`) builds on. Before anything goes, the history base is
rolled forward over the pruned nights, so the history stays complete.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipelines.extract.incremental import previous_snapshot
from pipelines.lake import Lake
from pipelines.lake.iceberg import LakeCatalog
from pipelines.lake.iceberg_catalog import CatalogConfig, CatalogUnavailable, answering
from pipelines.lake.mirror import Mirror
from pipelines.lake.nightrecord import fingerprint_nights, read_night_note
from pipelines.lake.objectstore import BucketError
from pipelines.lake.pruning import expired_dates, prune, pruned_dates, snapshot_dates
from pipelines.warehouse.history_base import roll_history_base

DEFAULT_KEEP_NIGHTS = 14
PRUNED = (
    "snapshot {date} was pruned from this data directory by local retention "
    "(BADGES_KEEP_NIGHTS): restore its raw archive {path} to replay it "
    "(or restore it from the bucket)"
)


@dataclass(frozen=True)
class Retention:
    keep_nights: int
    protected: list[dt.date]
    pruned: list[dt.date]
    iceberg: str = ""  # what local retention did to the Iceberg tables, or why not


def protected_dates(lake: Lake, mirror: Mirror | None = None) -> set[dt.date]:
    """The nights the next run (or an unfinished checkpoint's) reads, whatever their age,
    and those the bucket (when there is one) does not hold yet."""
    dates = snapshot_dates(lake)
    bases = {dates[-1]} if dates else set()
    for building in lake.building_dates():
        previous = previous_snapshot(lake, building)
        bases |= {building} | ({previous.snapshot_date} if previous else set())
    protected = set(bases)
    for day in bases:
        raw_dir = lake.raw_dir(day)
        protected |= fingerprint_nights(raw_dir)
        note = read_night_note(raw_dir) if raw_dir.is_dir() else None
        if note is not None and note.carried_from:
            protected.add(dt.date.fromisoformat(note.carried_from))
    return protected | not_in_bucket(mirror, dates)


def not_in_bucket(mirror: Mirror | None, dates: list[dt.date]) -> set[dt.date]:
    """The nights the bucket does not hold yet (all of them when it cannot say): a working
    copy never drops a night that only it has."""
    if mirror is None:
        return set()
    try:
        return set(mirror.pending())
    except BucketError:
        return set(dates)


def retain(
    lake: Lake, keep_nights: int, mirror: Mirror | None, catalog: CatalogConfig | None = None
) -> Retention:
    """Prunes the nights past the newest `keep_nights` that no run needs any more, once the
    history base covers them, and expires the local Iceberg catalog's nights before the
    window; returns what was kept and removed."""
    if keep_nights == 0:
        return Retention(keep_nights, [], [])
    window = snapshot_dates(lake)[-keep_nights:]
    protected = protected_dates(lake, mirror)
    expired = expired_dates(lake, keep_nights, protected)
    if expired:
        roll_history_base(lake, max(expired))
    removed = prune(lake, keep_nights, protected)
    kept = set(snapshot_dates(lake))
    iceberg = expire_iceberg(catalog, window[0]) if catalog and window else ""
    return Retention(keep_nights, sorted(protected & kept), removed, iceberg)


def expire_iceberg(catalog: CatalogConfig, oldest_kept: dt.date) -> str:
    """A catalog whose files are on this disk drops the nights before `oldest_kept` and
    expires their snapshots; one in a bucket (or a shared catalog) keeps every night."""
    if not catalog.local_warehouse:
        return f"{catalog.describe()} keeps every night"
    try:
        with answering(catalog):
            changed = LakeCatalog(catalog).expire_before(oldest_kept)
    except CatalogUnavailable as error:
        return f"not expired: {error}"
    if not changed:
        return f"iceberg: nothing before {oldest_kept} to expire"
    return f"iceberg: nights before {oldest_kept} expired from {len(changed)} tables"


PAST_WITHOUT_ARCHIVE = (
    "no raw archive for {date}: the Badges API serves only current state, so a past "
    "snapshot can only be rebuilt from its archive, never fetched again"
)


def pruned_message(lake: Lake, snapshot_date: dt.date) -> str | None:
    """Why a date has no raw archive when retention pruned it; None otherwise."""
    if snapshot_date not in pruned_dates(lake):
        return None
    return PRUNED.format(date=snapshot_date, path=lake.raw_dir(snapshot_date))


def no_archive_message(lake: Lake, snapshot_date: dt.date) -> str:
    """Why a date cannot be rebuilt: its raw archive was pruned, or never written here."""
    return pruned_message(lake, snapshot_date) or PAST_WITHOUT_ARCHIVE.format(date=snapshot_date)
