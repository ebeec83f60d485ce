"""A sealed night whose tail never ran: published from its archive, without a call.

A night's archive is sealed (its checkpoint `snapshot_date=D.building/` renamed to
`snapshot_date=D/`, its night record inside) only once its extraction passed the failed-
calls and volume gates. A run that then stops before its publish (killed in the load, the
history, the models or the publish itself) leaves that archive whole, and the published
warehouse holding another night. The next run of the same day publishes the archive
instead of fetching the day again: not one request, and the tables of the night it
fetched.

Which night the warehouse holds is in `main.snapshot_info.night_id`, the id the night
record got when it was sealed. A sealed night the warehouse holds already is fetched
again as usual (a second run of the day); `badges run --restart` always fetches, and so
does a run that finds a checkpoint of the day under way (`.building/`), which it resumes.

The lake partitions are reused when the run that sealed the archive wrote them all (its
`normalized.json`) and every file of them can be read; else they are rebuilt from the
archive, as a replay does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pipelines.lake import Lake
from pipelines.lake.dbfiles import read_published_night
from pipelines.lake.leftovers import give_back_leftovers
from pipelines.lake.mirror import mark_pending
from pipelines.lake.nightrecord import NightNote, read_night_note
from pipelines.lake.tables import TABLES
from pipelines.night.heal import heal_carried_from, rebuilt_warning, unreadable_partitions
from pipelines.normalize.normalizer import NormalizeReport
from pipelines.normalize.report_record import sealing_normalization
from pipelines.normalize.shards import normalize_archive


@dataclass(frozen=True)
class SealedTail:
    """A sealed night to publish from its archive."""

    note: NightNote
    partitions_reused: bool  # False: rebuilt from the archive
    normalized: NormalizeReport  # the lake partitions' report
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        lake = "its lake partitions as written" if self.partitions_reused else "its lake"
        rebuilt = "" if self.partitions_reused else " rebuilt from the archive"
        return (
            f"resumed from the sealed archive of {self.note.snapshot_date}: 0 requests; "
            f"its extraction completed before the run stopped, so the night is published "
            f"from {lake}{rebuilt} (`badges run --restart` fetches the day again)"
        )


def unpublished_night(lake: Lake, snapshot_date: dt.date) -> NightNote | None:
    """The night record of the date's sealed archive when the published warehouse does not
    hold that night; None when there is none, when it is published, or when a checkpoint of
    the day is under way."""
    raw_dir = lake.raw_dir(snapshot_date)
    if not raw_dir.is_dir() or lake.building_dir(snapshot_date).exists():
        return None
    note = read_night_note(raw_dir)
    if note is None or note.snapshot_date != snapshot_date.isoformat():
        return None  # an archive from before night records: nothing tells it was sealed
    published = read_published_night(lake.warehouse_path)
    if published is not None:
        published_date, night_id = published
        if published_date > snapshot_date:
            return None
        if published_date == snapshot_date and night_id == note.night_id:
            return None
    return note


def resume_sealed_tail(lake: Lake, snapshot_date: dt.date) -> SealedTail | None:
    """The date's sealed night to publish without a call, or None to run the night.

    What crashed runs left is given back first. Partitions written whole by the sealing
    run are reused with its report; else they are rebuilt from the archive, once the
    snapshot they carry customers from is healed."""
    give_back_leftovers(lake)
    note = unpublished_night(lake, snapshot_date)
    if note is None:
        return None
    raw_dir = lake.raw_dir(snapshot_date)
    damaged = unreadable_partitions(lake, snapshot_date)
    complete = not damaged and all(lake.table_dir(name, snapshot_date).is_dir() for name in TABLES)
    mark_pending(lake, snapshot_date)  # the bucket copy takes the night as published here
    written = sealing_normalization(raw_dir) if complete else None
    if written is not None:
        return SealedTail(note, partitions_reused=True, normalized=written)
    warnings = heal_carried_from(lake, snapshot_date)
    warnings += [rebuilt_warning(lake, snapshot_date, path, reason) for path, reason in damaged]
    rebuilt = normalize_archive(raw_dir, lake, snapshot_date)
    return SealedTail(note, partitions_reused=False, normalized=rebuilt, warnings=warnings)
