"""Every response example of the customer badge list page."""

from collections import Counter

import orjson

from pipelines.lake.tables import BADGE_CONSTRAINTS
from pipelines.normalize.constraints import constraint_rows
from pipelines.normalize.flatten import flatten_customer_badge_list
from tests.normalize.normalize_support import CONSTRAINT, SNAPSHOT, example, pick, utc


def flatten(name: str, first_position: int = 0) -> tuple[list[dict], Counter]:
    warnings = Counter()
    badges = example(name)["data"]["badges"]
    tables = flatten_customer_badge_list(
        badges, "62407752", "id", "AVAILABLE", first_position, SNAPSHOT, warnings
    )
    assert list(tables) == ["customer_badges"]
    return tables["customer_badges"], warnings


def test_customer_badges_1_ten_entries_positions_and_first_row():
    rows, warnings = flatten("get-customer-badges-1", first_position=20)
    assert [row["list_position"] for row in rows] == list(range(20, 30))
    assert [row["badge_id"] for row in rows] == [
        "662f671b0b50ae4de0cd3822",
        "65f7f4237d12f807399e1d6e",
        "664db59d9e99dd11b81add38",
        "662f66810b50ae4de0cd3820",
        "65efdc7f7d12f807399df869",
        "6627351f8fe258516a88fe36",
        "662749408fe258516a88fe89",
        "662f62ba0b50ae4de0cd3816",
        "662f66530b50ae4de0cd381e",
        "662f623a0b50ae4de0cd3814",
    ]
    assert rows[0] == {
        "snapshot_date": SNAPSHOT,
        "fetched_on": SNAPSHOT,
        "customer_id": "62407752",
        "identifier_type": "id",
        "badge_id": "662f671b0b50ae4de0cd3822",
        "list_type": "AVAILABLE",
        "list_position": 20,
        "badge_name": "SH Specific Store",
        "org_id": 100458,
        "earn_type": "EARN",
        "earned_count": None,
        "last_earned_at": None,
        "last_earn_event_at": None,
        "starts_at": utc("2024-04-29 09:28:34"),
        "expires_at": utc("2024-07-30 18:30:00"),
        "badge_group_id": "660bf2c98bdfa71c4496a940",
        "badge_group_name": "Group",
        "badge_rank": 16,
        "is_active": True,
        "extra": (
            '{"description":null,"images":[],'
            '"ownership":{"restrictedToOwners":["Loyalty"],"claims":[]},'
            '"customerConstraints":[],"badgeConstraints":[],"customFields":{}}'
        ),
    }
    assert [row["is_active"] for row in rows] == [
        True, False, True, True, False, False, False, True, True, True,
    ]  # fmt: skip
    assert [row["badge_rank"] for row in rows] == [16, None, 1, 15, None, 1, 1, 6, 15, 4]
    assert rows[9]["badge_name"] == "SH 3 Coke "
    assert not warnings


def test_customer_badges_1_three_pair_rolling_constraint_is_three_rows():
    rows, _ = flatten("get-customer-badges-1")
    extra = orjson.loads(rows[1]["extra"])
    assert extra["customerConstraints"][0]["constraintType"] == "CUSTOMER_BADGE_ROLLING_WINDOW"
    keys = {"snapshot_date": SNAPSHOT, "badge_id": "65f7f4237d12f807399e1d6e"}
    constraints = constraint_rows(extra, BADGE_CONSTRAINTS, keys, Counter())
    assert pick(constraints, *CONSTRAINT) == [
        ("CUSTOMER", "ROLLING_WINDOW", "DAYS", 10, 10, "CUSTOMER_BADGE_ROLLING_WINDOW"),
        ("CUSTOMER", "ROLLING_WINDOW", "WEEKS", 10, 10, "CUSTOMER_BADGE_ROLLING_WINDOW"),
        ("CUSTOMER", "ROLLING_WINDOW", "MONTHS", 10, 10, "CUSTOMER_BADGE_ROLLING_WINDOW"),
        ("CUSTOMER", "FIXED_VALUE", None, None, 1000, "CUSTOMER_BADGE_FIXED_VALUE"),
        ("BADGE", "FIXED_VALUE", None, None, 1000, "BADGE_FIXED_VALUE"),
    ]


def test_customer_badges_2_last_earned_and_two_non_null_rolling_pairs():
    rows, warnings = flatten("get-customer-badges-2")
    (row,) = rows
    assert (row["badge_id"], row["earned_count"]) == ("664442c560646c1208ede8f4", 1)
    assert row["last_earned_at"] == utc("2023-05-19 12:40:00")
    assert row["last_earn_event_at"] == utc("2023-05-19 13:40:00")
    assert row["starts_at"] == utc("2023-05-14 17:57:33.290000")
    assert row["expires_at"] == utc("2026-05-14 17:57:33.290000")
    extra = orjson.loads(row["extra"])
    assert set(extra) == {
        "description", "images", "ownership", "customerConstraints", "badgeConstraints",
        "customFields",
    }  # fmt: skip
    constraints = constraint_rows(extra, BADGE_CONSTRAINTS, {}, Counter())
    assert pick(constraints, *CONSTRAINT) == [
        ("CUSTOMER", "ROLLING_WINDOW", "DAYS", 2, 10, "CUSTOMER_BADGE_ROLLING_WINDOW"),
        ("CUSTOMER", "ROLLING_WINDOW", "MONTHS", 2, 11, "CUSTOMER_BADGE_ROLLING_WINDOW"),
    ]
    assert not warnings


def test_customer_badges_3_no_pagination_and_nine_digit_epochs():
    rows, _ = flatten("get-customer-badges-3")
    (row,) = rows
    assert row["badge_name"] == "BADGE_ASDFG"
    assert row["starts_at"] == row["last_earned_at"] == utc("2024-04-23 09:41:23")
    assert row["expires_at"] == utc("2027-12-14 03:15:10")
    assert (row["badge_group_id"], row["badge_group_name"], row["badge_rank"]) == (None, None, None)
    extra = orjson.loads(row["extra"])
    assert extra["customFields"] == {"2024": "true", "Date": "2025-01-18T09:09:09Z"}
    assert extra["tags"] == []
    constraints = constraint_rows(extra, BADGE_CONSTRAINTS, {}, Counter())
    assert pick(constraints, *CONSTRAINT, "cycle_status") == [
        ("CUSTOMER", "FIXED_WINDOW", "MONTHS", None, 1, "CUSTOMER_BADGE_FIXED_WINDOW", "ACTIVE"),
        ("BADGE", "FIXED_VALUE", None, None, 1000, "BADGE_FIXED_VALUE", None),
        ("BADGE", "ROLLING_WINDOW", "WEEKS", 1, 2000, "BADGE_ROLLING_WINDOW", None),
        ("BADGE", "ROLLING_WINDOW", "MONTHS", 1, 10000, "BADGE_ROLLING_WINDOW", None),
        ("BADGE", "ROLLING_WINDOW", "DAYS", 1, 100, "BADGE_ROLLING_WINDOW", None),
    ]


def test_customer_badges_4_issue_earn_badge_in_a_group():
    rows, _ = flatten("get-customer-badges-4")
    (row,) = rows
    assert (row["badge_id"], row["earn_type"], row["badge_group_name"], row["badge_rank"]) == (
        "653dea07b3cda7078c7c68ee",
        "ISSUE_EARN",
        "2024 Badges",
        2,
    )
    assert row["starts_at"] == utc("2023-10-29 05:30:00")
    assert row["expires_at"] == utc("2124-05-23 09:16:40")
    assert orjson.loads(row["extra"])["customFields"] == {
        "2024": "true",
        "Date": "2025-01-18 14:39:09",
        "Category1": "false",
        "Priority": "1",
    }
