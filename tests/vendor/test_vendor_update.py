"""A night after the vendor's documented PUT changed a badge: the badge shows the change,
and nothing else moves."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson

from pipelines.sandbox.credentials import basic_header
from pipelines.sandbox.vendor_world import BADGETEST_JAN16, example_text
from tests.vendor.conftest import contract_rows, start_vendor_pipeline


def test_the_night_after_a_put_shows_the_changed_badge_and_nothing_else(tmp_path: Path) -> None:
    runs = start_vendor_pipeline(tmp_path)
    pipeline = next(runs)
    try:
        assert pipeline.run().success
        before = contract_rows(pipeline.lake.warehouse_path)
        # update-badge-meta's request body for the badge "badgetestjan16 01"
        body = orjson.loads(example_text("update-badge-meta-request-2")) | {"id": BADGETEST_JAN16}
        answer = httpx.put(
            f"{pipeline.server.base_url}/api_gateway/v1/badges/badgeMeta",
            json=body,
            headers={
                "Authorization": basic_header(
                    pipeline.credentials.username, pipeline.credentials.password
                )
            },
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["errors"] == []
        assert pipeline.run().success
        after = contract_rows(pipeline.lake.warehouse_path)
        constraints = pipeline.query(
            f"""SELECT constraint_level, constraint_kind, window_unit, window_length,
                       max_earn_limit, raw_constraint_type
                FROM main.badge_constraints WHERE badge_id = '{BADGETEST_JAN16}'
                  AND constraint_kind IN ('FIXED_VALUE', 'FIXED_WINDOW') ORDER BY ALL"""
        )
        claims = pipeline.query(
            f"SELECT owner_type, reference_id FROM main.badge_claims "
            f"WHERE badge_id = '{BADGETEST_JAN16}'"
        )
    finally:
        runs.close()

    # The PUT's badge-level CUSTOMER_BADGE_FIXED_WINDOW is the badge's: its level is the
    # array it came in, whatever its type's prefix says.
    assert constraints == [
        ("BADGE", "FIXED_VALUE", None, None, 10000, "BADGE_FIXED_VALUE"),
        ("BADGE", "FIXED_WINDOW", "WEEKS", 3, 2, "CUSTOMER_BADGE_FIXED_WINDOW"),
        ("CUSTOMER", "FIXED_VALUE", None, None, 100, "CUSTOMER_BADGE_FIXED_VALUE"),
    ]
    assert claims == [("Loyalty", "626")]
    for table, rows in before.items():
        others = [row for row in rows if BADGETEST_JAN16 not in row]
        assert others == [row for row in after[table] if BADGETEST_JAN16 not in row], table
    changed = [r for r in after["badges"] if BADGETEST_JAN16 in r]
    assert changed != [r for r in before["badges"] if BADGETEST_JAN16 in r]
