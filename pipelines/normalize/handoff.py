"""A note, beside the raw archive, that this run already normalized it while extracting.

The normalize step uses the note only when it comes from the same run: a replay, a
backfill or a later run normalizes the archive again, unless it takes the note over
(`adopt_streamed_normalization`: a sealed night published by a later run).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path

from pipelines.lake.nightrecord import read_normalized_note, write_normalized_note
from pipelines.normalize.normalizer import NormalizeReport

COUNTERS = ("warnings", "duplicates", "new_keys", "wrong_types")


def record_streamed_normalization(raw_dir: Path, run_id: str, report: NormalizeReport) -> None:
    # Field by field, not `dataclasses.asdict`: that rebuilds a Counter from its
    # (key, count) pairs, which makes every pair a key.
    note = {field.name: getattr(report, field.name) for field in dataclasses.fields(report)}
    note["snapshot_date"] = report.snapshot_date.isoformat()
    for name in COUNTERS:
        note[name] = dict(note[name])
    write_normalized_note(raw_dir, run_id, note)


def streamed_normalization(raw_dir: Path, run_id: str) -> NormalizeReport | None:
    """The report of this run's streamed normalization, or None when there was none."""
    return _report(read_normalized_note(raw_dir, run_id))


def adopt_streamed_normalization(raw_dir: Path, run_id: str) -> NormalizeReport | None:
    """The report of the streamed normalization of the archive by whichever run sealed it,
    recorded again as `run_id`'s, so its normalize step has nothing left to do; None when
    the archive was never normalized whole."""
    report = _report(read_normalized_note(raw_dir, None))
    if report is not None:
        record_streamed_normalization(raw_dir, run_id, report)
    return report


def _report(note: dict | None) -> NormalizeReport | None:
    if note is None:
        return None
    note["snapshot_date"] = dt.date.fromisoformat(note["snapshot_date"])
    for name in COUNTERS:
        note[name] = Counter(note.get(name, {}))
    return NormalizeReport(**note)
