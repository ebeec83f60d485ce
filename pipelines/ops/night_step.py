"""The night's first steps as the asset graph runs them, one call each: what the bucket
gives back before the night, then the night's extract and normalize (or its rebuild from
the archive, or the publish of a sealed tail)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from pipelines.lake import Lake
from pipelines.lake.damage import naming_damaged_files
from pipelines.lake.datadir import ensure_data_dir
from pipelines.lake.mirror import Mirror
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

    def extract_and_normalize(self, request: NightRequest) -> ExtractedNight:
        """The night's raw archive and lake tables: rebuilt from the archive, published
        from a sealed tail, or extracted and normalized tonight."""
        ensure_data_dir(self.lake.root)
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
            warnings = heal_last_night(lake, snapshot_date)
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
        return ExtractedNight(outcome.normalized, outcome.volume, outcome.summary)
