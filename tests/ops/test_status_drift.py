"""`badges status` lists, beside the published snapshot's drift, its repeated entries,
disagreeing twins and the kinds of object that filled no typed column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines.ops.status import StatusReport

NOW = dt.datetime(2026, 12, 8, 6, 0, tzinfo=dt.UTC)
CLAIMS = "badge_meta.data.ownership.claims[]"
EARNS = "customer_badge_detail.data.earnDetails.earns[]"


def test_status_lists_repeats_disagreements_and_coverage() -> None:
    repeats = {CLAIMS: {"count": 1, "sample": '{"badge_id":"b1"}'}}
    twin = {"badge_meta.data.startOnISO": {"count": 1, "sample": '"x"'}}
    coverage = {
        EARNS: {"objects": 5, "unmapped": 5, "keys": {"id": 5}},
        "badge_meta.data": {"objects": 2, "unmapped": 0, "keys": {}},
    }
    report = StatusReport(
        NOW, Path("w.duckdb"), None, 26.0, drift=({}, {}, repeats, {}, twin, coverage)
    )
    lines = report.lines()
    assert "drift       none (the vendor sent nothing the contract does not know)" in lines
    assert f'  repeat      {CLAIMS}  in 1 row, e.g. {{"badge_id":"b1"}}' in lines
    assert '  disagrees   badge_meta.data.startOnISO  in 1 row, e.g. "x"' in lines
    assert f"  unmapped    {EARNS}  5 of 5 objects, keys: id 5" in lines
