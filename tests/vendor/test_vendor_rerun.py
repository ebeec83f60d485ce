"""A same-day rerun over the vendor's world loads what the first night loaded, row for row."""

from __future__ import annotations

from pathlib import Path

from tests.vendor.conftest import contract_rows, start_vendor_pipeline


def test_a_same_day_rerun_equals_the_first_night_row_for_row(tmp_path: Path) -> None:
    runs = start_vendor_pipeline(tmp_path)
    pipeline = next(runs)
    try:
        assert pipeline.run().success
        first = contract_rows(pipeline.lake.warehouse_path)
        assert pipeline.run().success
        rerun = contract_rows(pipeline.lake.warehouse_path)
    finally:
        runs.close()
    for table, rows in first.items():
        missing = [row for row in rows if row not in rerun[table]]
        added = [row for row in rerun[table] if row not in rows]
        assert (missing, added) == ([], []), table
