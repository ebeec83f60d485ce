"""The record a sealed night keeps of its normalization survives the warnings it carries."""

import datetime as dt
from collections import Counter
from pathlib import Path

from pipelines.normalize.normalizer import NormalizeReport
from pipelines.normalize.report_record import record_streamed_normalization, streamed_normalization


def test_a_report_with_warnings_round_trips_through_the_note(tmp_path: Path) -> None:
    report = NormalizeReport(
        snapshot_date=dt.date(2026, 12, 5),
        records_read=7,
        rows={"badges": 3},
        warnings=Counter({"customer_badge_constraints: rollingWindowLimits not a number": 2}),
        duplicates=Counter({"badges": 1}),
        carried={"customer_badges": 4},
    )
    record_streamed_normalization(tmp_path, "run-1", report)

    assert streamed_normalization(tmp_path, "run-1") == report
    assert streamed_normalization(tmp_path, "another run") is None
