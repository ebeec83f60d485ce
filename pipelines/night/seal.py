"""Sealing a night: its record written beside its answers, before its lake is completed.

Who was fetched tonight and since when the others were not (`night.parquet`), every
pair's fingerprint (tonight's decisions, and the carried customers' from the last
snapshot), the reused details copied in from the archives they were fetched into, and the
night's figures (`night.json`) that the next night plans with, among them each API's
limit at the host, which the next night's client starts at, and the id that names this
sealing (the warehouse records the one it loaded; see `pipelines.night.tail`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pipelines.extract.incremental import copy_reused_details, seal_detail_state
from pipelines.extract.outcome import ExtractReport
from pipelines.extract.rotation import Rotation
from pipelines.lake.checkpoint import Checkpoint
from pipelines.lake.nightrecord import NightNote, not_fetched_tonight
from pipelines.night.planner import found_or_achieved_rates
from pipelines.night.prepare import PreparedNight
from pipelines.normalize.carry import CarryForward
from pipelines.normalize.streaming import StreamingNormalizer


@dataclass(frozen=True)
class SealedNight:
    note: NightNote
    carry: CarryForward | None  # the customers the normalizer carries forward, if any


def seal(
    night: PreparedNight, rotation: Rotation, report: ExtractReport, normalizer: StreamingNormalizer
) -> SealedNight:
    """Writes the night's record into its building archive; the reused details go to the
    normalizer too."""
    building = night.building_dir
    carried = not_fetched_tonight(rotation.write(building))
    decisions = Checkpoint(building).decision_files()
    seal_detail_state(building, decisions, night.previous, carried)
    copy_reused_details(building, decisions, night.lake, on_batch=normalizer.submit)
    carried_from = night.previous.snapshot_date if night.previous and rotation.carried else None
    note = NightNote(
        snapshot_date=night.snapshot_date.isoformat(),
        rotation_nights=rotation.nights,
        carried_from=carried_from.isoformat() if carried_from else None,
        customers=len(rotation.population),
        customers_fetched=len(rotation.fetch),
        oldest_fetched_on=rotation.oldest_fetched_on().isoformat(),
        calls=dict(report.calls),
        failed_calls=report.failed_calls,
        found_rates=found_or_achieved_rates(report.seconds, report.calls, report.found_rates),
        limits=night.limits_after(report.limits),
        pairs_reusable=report.pairs_reusable,
        pairs_changed=report.pairs_changed,
        night_id=uuid.uuid4().hex,
    )
    note.write(building)
    carry = CarryForward(carried_from, carried) if carried_from else None
    return SealedNight(note, carry)
