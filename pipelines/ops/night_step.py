"""The night's first steps as the asset graph runs them, one call each: what the bucket
gives back before the night, then the night's extract and normalize (or its rebuild from
the archive, or the publish of a sealed tail)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from pipelines.extract.incremental import previous_snapshot
from pipelines.lake import Lake
from pipelines.lake.damage import naming_damaged_files
from pipelines.lake.datadir import ensure_data_dir
from pipelines.lake.iceberg import LakeCatalog, NightCommit
from pipelines.lake.iceberg_catalog import CatalogConfig, answering, restore_catalog
from pipelines.lake.mirror import Mirror
from pipelines.lake.nightrecord import read_night_note
from pipelines.lake.source_record import claim_for_source
from pipelines.night.heal import heal_last_night
from pipelines.night.night import VolumeRefused, run_night
from pipelines.night.options import NightOptions
from pipelines.night.retention import no_archive_message
from pipelines.night.summary import NightSummary
from pipelines.night.tail import SealedTail, resume_sealed_tail, unpublished_night
from pipelines.night.volume import VolumeCheck
from pipelines.normalize.normalizer import NormalizeReport
from pipelines.normalize.report_record import record_streamed_normalization
from pipelines.normalize.shards import normalize_archive
from pipelines.ops.resources import CapillaryApiResource
from pipelines.ops.source import prepare_source_night


class ArchiveMissing(FileNotFoundError):
    """A past night (or a replay) whose raw archive is neither here nor in the bucket."""


class StepLog(Protocol):
    def info(self, line: str) -> None: ...
    def warning(self, line: str) -> None: ...


@dataclass(frozen=True)
class NightRequest:
    """One run's night: its date, how it is run, and whether it is rebuilt from its archive."""

    snapshot_date: dt.date
    options: NightOptions
    from_archive: bool  # a past date, or a replay asked for
    rate_limit: str | None = None
    run_id: str = ""


@dataclass
class ExtractedNight:
    """What the extract-and-normalize step did: the lake's report (None: refused before its
    tables were published), the volume gate, and the night's figures (None: a rebuild)."""

    normalized: NormalizeReport | None
    volume: VolumeCheck
    summary: NightSummary | None = None
    iceberg: NightCommit | None = None  # the tables' snapshots, once committed
    rebuilt: list[dt.date] = field(default_factory=list)  # partitions rebuilt from archives


def restore_before_night(request: NightRequest, lake: Lake, mirror: Mirror) -> list[str]:
    """What the night needs from the bucket, brought here before its first call; raises
    BucketError, and nothing is called."""
    date = request.snapshot_date
    if request.from_archive:
        if lake.raw_dir(date).exists():
            return []
        return [mirror.restore_nights([date]).describe("restored")]
    if not request.options.restart and unpublished_night(lake, date) is not None:
        return [f"bucket: the sealed archive of {date} is here; nothing to restore"]
    options = request.options
    return mirror.bring_up_to_date(date, options.refresh_days, options.restart)


@dataclass
class NightStep:
    """The extract-and-normalize step over its lake, bucket, API and log."""

    lake: Lake
    mirror: Mirror | None
    api: CapillaryApiResource
    log: StepLog
    catalog: CatalogConfig

    def extract_and_normalize(self, request: NightRequest) -> ExtractedNight:
        """The night's raw archive and lake tables (rebuilt from the archive, published
        from a sealed tail, or extracted and normalized tonight), committed to the Iceberg
        catalog once they passed the gates."""
        ensure_data_dir(self.lake.root)
        night = self._lake_tables(request)
        if night.normalized is not None and night.volume.passed:
            date = request.snapshot_date
            healed = [(d, True) for d in sorted(set(night.rebuilt) - {date})]  # files replaced
            tonight = (date, request.from_archive or date in night.rebuilt)
            night.iceberg = self.commit([*healed, tonight])[-1]
        return night

    def commit(self, nights: list[tuple[dt.date, bool]]) -> list[NightCommit]:
        """Each (date, replace)'s partitions as one snapshot per Iceberg table, in one
        session of the catalog (restored from the bucket and uploaded back once); raises
        CatalogUnavailable, naming the catalog, when it does not answer."""
        bucket = self.mirror.bucket if self.mirror is not None else None
        commits = []
        with answering(self.catalog):
            if bucket is not None:
                restore_catalog(self.catalog, self.lake, bucket)
            catalog = LakeCatalog(self.catalog)
            for snapshot_date, replace in nights:
                note = read_night_note(self.lake.raw_dir(snapshot_date))
                night_id = (note.night_id if note else None) or f"archive-{snapshot_date}"
                commits.append(catalog.commit_night(self.lake, snapshot_date, night_id, replace))
            if bucket is not None:
                catalog.upload_catalog(self.lake, bucket)
        for commit in commits:
            self.log.info(commit.describe(self.catalog))
        return commits

    def _lake_tables(self, request: NightRequest) -> ExtractedNight:
        if request.from_archive:
            return self._rebuild(request.snapshot_date)
        with naming_damaged_files(self.lake):
            restart = request.options.restart
            tail = None if restart else resume_sealed_tail(self.lake, request.snapshot_date)
        if tail is not None:
            return self._sealed(tail)
        return self._tonight(request)

    def _rebuild(self, snapshot_date: dt.date) -> ExtractedNight:
        raw_dir = self.lake.raw_dir(snapshot_date)
        if not raw_dir.exists():
            raise ArchiveMissing(no_archive_message(self.lake, snapshot_date))
        self.log.info(f"rebuilding {snapshot_date} from its raw archive, no API call")
        with naming_damaged_files(self.lake):
            normalized = normalize_archive(raw_dir, self.lake, snapshot_date)
        volume = VolumeCheck(True, "rebuilt from the archive: not compared")
        return ExtractedNight(normalized, volume)

    def _sealed(self, tail: SealedTail) -> ExtractedNight:
        for warning in tail.warnings:
            self.log.warning(warning)
        self.log.info(tail.describe())
        volume = VolumeCheck(True, "passed when the night was sealed: not compared again")
        summary = NightSummary.of_sealed(tail.note, tail.warnings)
        return ExtractedNight(tail.normalized, volume, summary)

    def _tonight(self, request: NightRequest) -> ExtractedNight:
        lake, log = self.lake, self.log
        snapshot_date, options = request.snapshot_date, request.options
        with naming_damaged_files(lake):
            previous = previous_snapshot(lake, snapshot_date)
            warnings = heal_last_night(lake, snapshot_date)
        healed = [previous.snapshot_date] if warnings and previous is not None else []
        for warning in warnings:
            log.warning(warning)
        with naming_damaged_files(lake), self.api.open(request.rate_limit) as source:
            claim_for_source(lake, source.identity)
            night = prepare_source_night(lake, snapshot_date, source, options)
            for warning in night.resumed.warnings:
                log.warning(warning)
            warnings += night.resumed.warnings
            where = "the embedded sandbox" if source.is_sandbox else source.settings.base_url
            log.info(f"extracting from {where}\n{night.plan.describe()}")
            try:
                outcome = run_night(
                    source.settings, night, options, self.mirror, lambda f: log.info(f.describe())
                )
            except VolumeRefused as refused:
                refused.summary.file_warnings = warnings
                return ExtractedNight(None, refused.check, refused.summary)
        raw_dir = lake.raw_dir(snapshot_date)
        record_streamed_normalization(raw_dir, request.run_id, outcome.normalized)
        outcome.summary.file_warnings = warnings
        return ExtractedNight(outcome.normalized, outcome.volume, outcome.summary, rebuilt=healed)
