"""One night, top to bottom: plan, extract, normalize, gate, seal, publish.

1. Plan (`prepare.prepare_night`, before `run_night`, deciding with the pure `planner`):
   who is fetched tonight, which details may be reused, what an earlier attempt of the
   night already has, the calls it takes.
2. Extract: every call's answer into the night's checkpoint (`snapshot_date=D.building/`);
   each checkpoint is handed to the normalizer too, which writes temporary partitions of
   every table in a second process meanwhile.
3. Gate: too many calls without an answer refuse the night.
4. Seal: the night's record beside its answers (who was fetched, fingerprints, reused
   details, figures); the normalizer completes the tables, carrying forward the
   customers not fetched tonight.
5. Gate: no volume may collapse against the published warehouse.
6. Publish: the archive and the lake partitions are swapped in.

A refused, crashed or killed night changes nothing that is published and leaves its
checkpoint for the next attempt, which fetches only what is missing (a refused volume
needs no call at all to accept). A night stopped after its seal is published by the
next run of the day from its archive, without a call (`tail.py`). A failed night drops
its temporary partitions; a full disk fails it with `DiskFull`, which names the
directory and the space to free.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.client.settings import ApiSettings
from pipelines.extract.extraction import run_extraction
from pipelines.extract.gate import SnapshotRefused, refusal
from pipelines.extract.outcome import ExtractReport, GateWatch
from pipelines.extract.progress import ProgressCallback
from pipelines.lake.checkpoint import Checkpoint, CheckpointWriter
from pipelines.lake.durable import replace_directory
from pipelines.lake.failpoints import failpoint
from pipelines.lake.mirror import CheckpointUploads, Mirror, mark_pending
from pipelines.lake.nightrecord import NightNote
from pipelines.lake.space import disk_full, is_disk_full
from pipelines.night.options import NightOptions
from pipelines.night.prepare import PreparedNight
from pipelines.night.seal import seal
from pipelines.night.summary import NightSummary
from pipelines.night.volume import VolumeCheck, check_volume, volume_of_files, volume_of_warehouse
from pipelines.normalize.normalizer import NormalizeReport
from pipelines.normalize.streaming import StreamingNormalizer


class VolumeRefused(SnapshotRefused):
    """The night's volumes collapsed against the published snapshot."""

    def __init__(self, check: VolumeCheck, summary: NightSummary) -> None:
        super().__init__(f"snapshot refused: {check.description}")
        self.check = check
        self.summary = summary


@dataclass
class NightOutcome:
    report: ExtractReport
    normalized: NormalizeReport
    volume: VolumeCheck
    note: NightNote
    summary: NightSummary


def run_night(
    settings: ApiSettings,
    night: PreparedNight,
    options: NightOptions,
    mirror: Mirror | None = None,
    on_progress: ProgressCallback | None = None,
    progress_every: float = 2.0,
) -> NightOutcome:
    """Extracts, gates and publishes one night (its checkpoints uploaded to the `mirror` as
    they are written); raises SnapshotRefused (VolumeRefused for a
    collapse), AuthenticationFailed, ApiUnavailable or DiskFull, with nothing published."""
    normalizer = StreamingNormalizer(night.lake, night.snapshot_date)
    try:
        report = _extract(settings, night, options, mirror, normalizer, on_progress, progress_every)
        reason = refusal(report.tally, options.max_failed_share)
        if reason is not None:
            raise SnapshotRefused(f"snapshot refused: {reason}")
        sealed = seal(night, night.rotation.without(report.unlisted), report, normalizer)
        files = normalizer.close(sealed.carry)
        published = volume_of_warehouse(night.lake.warehouse_path)
        volume = check_volume(
            volume_of_files(files), published, options.max_drop_share, options.accept_drop
        )
        if not volume.passed:
            raise VolumeRefused(volume, NightSummary.of(night.plan, report, sealed.note))
    except BaseException as error:
        normalizer.abort()  # its temporary partitions go; the checkpoint stays to resume from
        if is_disk_full(error):
            raise disk_full(night.lake, f"extracting {night.snapshot_date}") from error
        raise
    Checkpoint(night.building_dir).remove_state()
    replace_directory(night.building_dir, night.lake.raw_dir(night.snapshot_date))
    mark_pending(night.lake, night.snapshot_date)
    failpoint("sealed")  # the archive sealed, its lake partitions not yet swapped in
    normalized = normalizer.publish()
    summary = NightSummary.of(night.plan, report, sealed.note, normalized)
    return NightOutcome(report, normalized, volume, sealed.note, summary)


def _extract(
    settings: ApiSettings,
    night: PreparedNight,
    options: NightOptions,
    mirror: Mirror | None,
    normalizer: StreamingNormalizer,
    on_progress: ProgressCallback | None,
    progress_every: float,
) -> ExtractReport:
    """Every call of the night into its checkpoint, resumed answers fed to the normalizer
    first; the answers go to it as they are checkpointed."""
    for part in night.resumed.parts:
        normalizer.submit_file(part)
    uploads = CheckpointUploads(mirror, night.building_dir)
    writer = CheckpointWriter(
        night.building_dir,
        night.resumed.next_part,
        on_batch=normalizer.submit,
        checkpoint_seconds=options.checkpoint_seconds,
        on_file=uploads.submit,
    )
    expected = night.plan.total_calls + night.resumed.answered_calls
    return run_extraction(
        settings,
        writer,
        night.rotation.fetch,
        remembered_limits=night.remembered_limits,
        snapshot_date=night.snapshot_date,
        resumed=night.resumed,
        plan=night.details,
        gate=GateWatch(options.max_failed_share, expected if night.previous else None),
        describe_badges=night.carried_badges,
        on_progress=on_progress,
        progress_every=progress_every,
    )
