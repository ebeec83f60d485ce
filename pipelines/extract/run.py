"""Run a prepared night into its raw archive and lake partitions, published only past the gates.

The archive is built (and checkpointed) in `snapshot_date=D.building/` while a second
process normalizes it. The night then has to pass, in order: the failed-calls gate
(`gate`), and the volume check against the published warehouse (`volume`). Only then
are the archive and the lake partitions swapped in. A refused, crashed or killed night
changes nothing that is published, and leaves its checkpoint for the next attempt,
which fetches only what is missing (a refused volume needs no call at all to accept).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipelines.client.http import ApiClient
from pipelines.client.settings import ApiSettings
from pipelines.extract.checkpoint import (
    CheckpointWriter,
    decision_files,
    remove_checkpoint_state,
)
from pipelines.extract.customers import CustomerRef
from pipelines.extract.gate import SnapshotRefused, refusal
from pipelines.extract.incremental import REUSED_FILE, copy_reused_details, seal_detail_state
from pipelines.extract.night import NightOptions, PreparedNight, found_or_achieved_rates
from pipelines.extract.progress import ProgressCallback
from pipelines.extract.report import ExtractReport, GateWatch
from pipelines.extract.rotation import Rotation
from pipelines.extract.snapshot import SnapshotExtractor
from pipelines.lake.nightrecord import NIGHT_FILE, NightNote
from pipelines.normalize.carry import CarryForward
from pipelines.normalize.snapshot import NormalizeReport
from pipelines.normalize.streaming import StreamingNormalizer
from pipelines.warehouse.volume import VolumeCheck, check_volume, volume_of_warehouse


class VolumeRefused(SnapshotRefused):
    """The night's volumes collapsed against the published snapshot."""

    def __init__(self, check: VolumeCheck, report: ExtractReport) -> None:
        super().__init__(f"snapshot refused: {check.description}")
        self.check = check
        self.report = report


@dataclass
class NightOutcome:
    report: ExtractReport
    normalized: NormalizeReport
    volume: VolumeCheck
    note: NightNote


def run_night(
    settings: ApiSettings,
    night: PreparedNight,
    options: NightOptions,
    on_progress: ProgressCallback | None = None,
    progress_every: float = 2.0,
) -> NightOutcome:
    """Extracts, gates and publishes one night; raises SnapshotRefused (VolumeRefused for a
    collapse), AuthenticationFailed or ApiUnavailable, with nothing published."""
    building = night.building_dir
    normalizer = StreamingNormalizer(night.lake, night.snapshot_date)
    # Everything loaded so far (Dagster, pyarrow...) lives as long as the process: keep
    # the collector from walking it again and again while requests stream through.
    gc.freeze()
    try:
        for part in night.resumed.parts:
            normalizer.submit_file(part)
        writer = CheckpointWriter(
            building,
            night.resumed.next_part,
            on_batch=normalizer.submit,
            checkpoint_seconds=options.checkpoint_seconds,
        )
        report = asyncio.run(
            _extract(settings, night, writer, options, on_progress, progress_every)
        )
        reason = refusal(report.tally, options.max_failed_share)
        if reason is not None:
            raise SnapshotRefused(f"snapshot refused: {reason}")
        rotation = night.rotation.without(report.unlisted)
        note = _seal(night, rotation, report, normalizer)
        carry = (
            CarryForward(night.previous.snapshot_date, building / NIGHT_FILE)
            if night.previous is not None and rotation.carried
            else None
        )
        volumes = normalizer.close(carry)
        volume = check_volume(
            volumes,
            volume_of_warehouse(night.lake.warehouse_path),
            options.max_drop_share,
            options.accept_drop,
        )
        if not volume.passed:
            raise VolumeRefused(volume, report)
    except BaseException:
        normalizer.abort()
        raise
    finally:
        gc.unfreeze()
    remove_checkpoint_state(building)
    replace_directory(building, night.lake.raw_dir(night.snapshot_date))
    return NightOutcome(report, normalizer.publish(), volume, note)


async def _extract(
    settings: ApiSettings,
    night: PreparedNight,
    writer: CheckpointWriter,
    options: NightOptions,
    on_progress: ProgressCallback | None,
    progress_every: float,
) -> ExtractReport:
    expected = night.plan.total_calls + night.resumed.answered_calls
    gate = GateWatch(options.max_failed_share, expected if night.previous else None)
    async with ApiClient(settings) as client:
        await client.preflight()
        extractor = SnapshotExtractor(
            client,
            writer,
            night.rotation.fetch,
            snapshot_date=night.snapshot_date,
            resumed=night.resumed,
            plan=night.details,
            gate=gate,
            describe_badges=night.carried_badges,
            on_progress=on_progress,
            progress_every=progress_every,
        )
        return await extractor.run()


def _seal(
    night: PreparedNight,
    rotation: Rotation,
    report: ExtractReport,
    normalizer: StreamingNormalizer,
) -> NightNote:
    """Writes the night's state beside its responses and copies the reused details in."""
    building = night.building_dir
    night_file = rotation.write(building)
    decisions = decision_files(building)
    seal_detail_state(building, decisions, night.previous, night_file)
    if copy_reused_details(building, decisions, night.lake):
        normalizer.submit_file(building / REUSED_FILE)
    note = NightNote(
        snapshot_date=night.snapshot_date.isoformat(),
        rotation_nights=rotation.nights,
        carried_from=(
            night.previous.snapshot_date.isoformat()
            if night.previous and rotation.carried
            else None
        ),
        customers=len(rotation.population),
        customers_fetched=len(rotation.fetch),
        oldest_fetched_on=rotation.oldest_fetched_on().isoformat(),
        calls=dict(report.calls),
        failed_calls=report.failed_calls,
        found_rates=found_or_achieved_rates(report.seconds, report.calls, report.found_rates),
        pairs_reusable=report.pairs_reusable,
        pairs_changed=report.pairs_changed,
    )
    note.write(building)
    return note


def replace_directory(new: Path, target: Path) -> None:
    """Puts `new` in place of `target`; the old one is removed only after the swap."""
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def extract_to_archive(
    settings: ApiSettings,
    customers: list[CustomerRef],
    raw_dir: Path,
    on_progress: ProgressCallback | None = None,
) -> ExtractReport:
    """Every call for `customers` into `raw_dir`: nothing reused, normalized or gated (the
    bare extraction, as the benchmarks measure it)."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    writer = CheckpointWriter(raw_dir)

    async def extract() -> ExtractReport:
        async with ApiClient(settings) as client:
            extractor = SnapshotExtractor(
                client,
                writer,
                customers,
                snapshot_date=dt.datetime.now(dt.UTC).date(),
                on_progress=on_progress,
            )
            return await extractor.run()

    gc.freeze()
    try:
        return asyncio.run(extract())
    finally:
        gc.unfreeze()
