"""Whole nights over the vendor's world: the first night holds what the examples state, to
the microsecond, and a same-day rerun loads the same rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from pipelines.sandbox.vendor_world import (
    BADGE123,
    BADGETEST_JAN16,
    EMAIL_CUSTOMER,
    ISSUE_EARN283,
    ISSUEDS_TEST6,
    OG_BADGE2,
)
from tests.e2e.conftest import Pipeline
from tests.vendor.conftest import contract_rows, start_vendor_pipeline

UTC = dt.UTC


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


@dataclass
class Nights:
    pipeline: Pipeline
    first: dict[str, list[tuple]]
    rerun: dict[str, list[tuple]]
    metadata: dict[str, Any]
    requests: dict[str, int]


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    runs = start_vendor_pipeline(tmp_path_factory.mktemp("vendor-nights"))
    pipeline = next(runs)
    result = pipeline.run()
    assert result.success
    metadata = result.asset_materializations_for_node("raw_api_responses")[0].metadata
    first = contract_rows(pipeline.lake.warehouse_path)
    requests = dict(pipeline.server.stats.requests)
    assert pipeline.run().success
    yield Nights(
        pipeline,
        first,
        contract_rows(pipeline.lake.warehouse_path),
        {k: v.value for k, v in metadata.items()},
        requests,
    )
    runs.close()


def query(nights: Nights, sql: str) -> list[tuple]:
    return nights.pipeline.query(sql)


def test_badge_meta_lands_with_the_examples_instants(nights: Nights) -> None:
    rows = query(
        nights,
        f"""SELECT name, earn_type, status, starts_at, expires_at, created_at
            FROM main.badges WHERE badge_id = '{BADGE123}'""",
    )
    # get-badge-meta-by-id-2: "startOn": 1716803487, "createdOn": 1713850688.811
    assert rows == [
        ("BADGE123", "EARN", "LIVE", at(2024, 5, 27, 9, 51, 27), at(2024, 9, 20, 3, 46, 40),
         at(2024, 4, 23, 5, 38, 8, 811000)),
    ]  # fmt: skip


def test_a_detail_in_milliseconds_is_read_as_milliseconds_not_its_broken_iso_twin(
    nights: Nights,
) -> None:
    # get-customer-badge-detail-1: "startsOn": 1765178896000.000000000 with startsOnISO
    # "+57906-04-18T07:06:40Z"; "expiresOn": 1796275142001.000000000.
    rows = query(
        nights,
        f"""SELECT identifier_type, badge_type, badge_status, starts_at, expires_at
            FROM main.customer_badge_details
            WHERE customer_id = '919999999994' AND badge_id = '{ISSUEDS_TEST6}'""",
    )
    assert rows == [
        ("mobile", "ISSUE_EARN", "UPCOMING", at(2025, 12, 8, 7, 28, 16),
         at(2026, 12, 3, 5, 19, 2, 1000)),
    ]  # fmt: skip


def test_an_issual_keeps_its_instants_to_the_microsecond(nights: Nights) -> None:
    # get-customer-badge-detail-7: issuedOn 1728281969.300000000 (a binary float of it
    # truncates to .299999), revokedOn 1728282201.451000000, issueEventDate 1728279028.
    rows = query(
        nights,
        f"""SELECT issue_id, issued_at, issued_status, revoked_at, issue_event_at
            FROM main.badge_issuals WHERE badge_id = '{ISSUE_EARN283}'""",
    )
    assert rows == [
        ("67037d71d33ceb2ad0a69b1c", at(2024, 10, 7, 6, 19, 29, 300000), "REVOKED",
         at(2024, 10, 7, 6, 23, 21, 451000), at(2024, 10, 7, 5, 30, 28)),
    ]  # fmt: skip


def test_both_constraint_shapes_land_in_one_shape(nights: Nights) -> None:
    meta_shape = query(
        nights,
        f"""SELECT constraint_level, constraint_kind, window_unit, window_length,
                   max_earn_limit, raw_constraint_type
            FROM main.badge_constraints WHERE badge_id = '{BADGETEST_JAN16}'
            ORDER BY ALL""",
    )
    # update-badge-meta-2: a customer rolling constraint with three pairs is three rows.
    assert [row for row in meta_shape if row[1] == "ROLLING_WINDOW"] == [
        ("CUSTOMER", "ROLLING_WINDOW", "DAYS", 1, 1, "CUSTOMER_BADGE_ROLLING_WINDOW"),
        ("CUSTOMER", "ROLLING_WINDOW", "MONTHS", 1, 10, "CUSTOMER_BADGE_ROLLING_WINDOW"),
        ("CUSTOMER", "ROLLING_WINDOW", "WEEKS", 1, 2, "CUSTOMER_BADGE_ROLLING_WINDOW"),
    ]
    detail_shape = query(
        nights,
        f"""SELECT constraint_level, constraint_kind, window_unit, window_length,
                   max_earn_limit, raw_constraint_type, current_earn_count
            FROM main.customer_badge_constraints
            WHERE customer_id = '381921157' AND badge_id = '{OG_BADGE2}' ORDER BY ALL""",
    )
    # get-customer-badge-detail-2: OVERALL constraints are FIXED_VALUE, per level.
    assert detail_shape == [
        ("BADGE", "FIXED_VALUE", None, None, 1000, "OVERALL", 0),
        ("CUSTOMER", "FIXED_VALUE", None, None, 100, "OVERALL", 0),
    ]


def test_an_email_customer_and_a_list_without_pagination(nights: Nights) -> None:
    # get-customer-badges-3: no `pagination`, no errors or warnings keys.
    rows = query(
        nights,
        f"""SELECT identifier_type, badge_id, earn_type, earned_count, last_earned_at
            FROM main.customer_badges
            WHERE customer_id = '{EMAIL_CUSTOMER}' AND list_type = 'EARNED'""",
    )
    assert rows == [("email", "662643308fe258516a88f924", "EARN", 1, at(2024, 4, 23, 9, 41, 23))]


def test_the_vendors_answers_about_the_data_are_rows_of_extract_errors(nights: Nights) -> None:
    rows = query(
        nights,
        """SELECT endpoint, customer_id, http_status, error_code, count(*)
           FROM main.extract_errors WHERE error_code IN ('1026', '1028')
           GROUP BY ALL ORDER BY ALL""",
    )
    assert rows == [
        ("customer_badges", "4111111111111111", 400, "1028", 4),
        ("customer_badges", "62090013", 404, "1026", 4),
    ]
    unknown_badges = query(
        nights,
        "SELECT count(*) FROM main.extract_errors WHERE endpoint = 'badge_meta' "
        "AND http_status = 404",
    )
    assert unknown_badges == [(15,)]  # every listed badge no meta example shows
    assert nights.metadata["failed_calls"] == 0


def test_the_first_night_publishes_every_table(nights: Nights) -> None:
    counts = {table: len(rows) for table, rows in nights.first.items()}
    assert counts == {
        "badges": 5,
        "badge_owners": 8,
        "badge_claims": 2,
        "badge_custom_fields": 9,
        "badge_constraints": 17,
        "customer_badges": 23,
        "customer_badge_details": 7,
        "customer_badge_constraints": 12,
        "badge_issuals": 1,
        "badge_earns": 0,
        "extract_errors": 39,
    }
    # 6 customers x 4 lists, one page each; 15 metas; 23 pairs' details
    assert nights.requests == {"customer_badges": 24, "badge_meta": 20, "customer_badge_detail": 23}


def test_a_same_day_rerun_equals_the_first_night_row_for_row(nights: Nights) -> None:
    for table, rows in nights.first.items():
        missing = [row for row in rows if row not in nights.rerun[table]]
        added = [row for row in nights.rerun[table] if row not in rows]
        assert (missing, added) == ([], []), table
