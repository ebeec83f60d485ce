"""A note, beside the raw archive, that this run already normalized it while extracting.

The normalize step uses the note only when it comes from the same run: a replay, a
backfill or a later run normalizes the archive again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

from pipelines.normalize.snapshot import NormalizeReport

NOTE = Path("_state") / "normalized.json"


def record_streamed_normalization(raw_dir: Path, run_id: str, report: NormalizeReport) -> None:
    note = {
        "run_id": run_id,
        "snapshot_date": report.snapshot_date.isoformat(),
        "records_read": report.records_read,
        "rows": report.rows,
        "warnings": dict(report.warnings),
        "duplicates": dict(report.duplicates),
    }
    path = raw_dir / NOTE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(note, indent=1))


def streamed_normalization(raw_dir: Path, run_id: str) -> NormalizeReport | None:
    """The report of this run's streamed normalization, or None when there was none."""
    path = raw_dir / NOTE
    if not path.exists():
        return None
    note = json.loads(path.read_text())
    if note.get("run_id") != run_id:
        return None
    report = NormalizeReport(snapshot_date=dt.date.fromisoformat(note["snapshot_date"]))
    report.records_read = note["records_read"]
    report.rows = note["rows"]
    report.warnings = Counter(note["warnings"])
    report.duplicates = Counter(note["duplicates"])
    return report
