"""The record, beside a sealed archive, of the run that normalized it whole while extracting.

A sealed night that a later run publishes (`night.tail`) reuses the lake partitions that
run wrote, with its report, instead of normalizing the archive again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path

from pipelines.lake.nightrecord import read_normalized_note, write_normalized_note
from pipelines.normalize.normalizer import NormalizeReport
from pipelines.normalize.record_rows import COUNTERS


def record_streamed_normalization(raw_dir: Path, run_id: str, report: NormalizeReport) -> None:
    # Field by field, not `dataclasses.asdict`: that rebuilds a Counter from its
    # (key, count) pairs, which makes every pair a key.
    note = {field.name: getattr(report, field.name) for field in dataclasses.fields(report)}
    note["snapshot_date"] = report.snapshot_date.isoformat()
    for name in COUNTERS:
        note[name] = dict(note[name])
    write_normalized_note(raw_dir, run_id, note)


def streamed_normalization(raw_dir: Path, run_id: str) -> NormalizeReport | None:
    """The report of `run_id`'s streamed normalization, or None when there was none."""
    return _report(read_normalized_note(raw_dir, run_id))


def sealing_normalization(raw_dir: Path) -> NormalizeReport | None:
    """The report of the run that normalized the archive whole, whichever run it was; None
    when the archive was never normalized whole."""
    return _report(read_normalized_note(raw_dir, None))


def _report(note: dict | None) -> NormalizeReport | None:
    if note is None:
        return None
    note["snapshot_date"] = dt.date.fromisoformat(note["snapshot_date"])
    for name in COUNTERS:
        note[name] = Counter(note.get(name, {}))
    return NormalizeReport(**note)
