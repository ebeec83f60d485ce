"""Every badge-meta-shaped example of the spec (get badge by id, update badge responses)."""

from collections import Counter

import orjson

from pipelines.normalize.flatten import flatten_badge_meta
from tests.normalize.normalize_support import CONSTRAINT, SNAPSHOT, example, pick, utc


def flatten(name: str) -> tuple[dict, Counter]:
    warnings = Counter()
    body = example(name)
    return flatten_badge_meta(body.get("data", body), SNAPSHOT, warnings), warnings


def subset(row: dict, expected: dict) -> dict:
    return {column: row[column] for column in expected}


def test_get_badge_meta_1_full_badge_row_custom_fields_and_no_limit():
    tables, warnings = flatten("get-badge-meta-by-id-1")
    assert tables["badges"] == [
        {
            "snapshot_date": SNAPSHOT,
            "badge_id": "692e7e739b3ca00e4bbf7c06",
            "badge_numeric_id": 82,
            "org_id": 100737,
            "name": "Test badge 02/12 01",
            "description": None,
            "earn_type": "EARN",
            "status": "LIVE",
            "is_active": True,
            "starts_at": utc("2025-12-02 05:50:07"),
            "expires_at": utc("2026-05-02 05:50:07"),
            "badge_group_id": None,
            "badge_rank": 1,
            "issued_count": None,
            "earned_count": None,
            "created_at": utc("2025-12-02 05:51:47.835000"),
            "created_by": 75176138,
            "updated_at": utc("2026-01-19 12:56:39.422000"),
            "updated_by": 75197372,
            "earned_expiry_type": "RELATIVE",
            "earned_expiry_unit": "WEEKS",
            "earned_expiry_value": 2,
            "earned_expiry_mode": None,
            "earned_expires_at": None,
            "issued_expiry_type": "RELATIVE",
            "issued_expiry_unit": "WEEKS",
            "issued_expiry_value": 2,
            "issued_expiry_mode": None,
            "issued_expires_at": None,
            "extra": '{"images":[],"benefits":[],"tags":[]}',
        }
    ]
    assert pick(tables["badge_owners"], "badge_id", "owner_type") == [
        ("692e7e739b3ca00e4bbf7c06", "Audience_Campaigns"),
        ("692e7e739b3ca00e4bbf7c06", "Loyalty"),
    ]
    assert pick(tables["badge_claims"], "owner_type", "reference_id", "is_active", "extra") == [
        ("Loyalty", "123", True, None),
        ("Loyalty", "12i3", True, None),
    ]
    assert pick(tables["badge_custom_fields"], "field_name", "field_value") == [
        ("CF 04", "1234"),
        ("CF 05", "1234"),
        ("Badge use", "uses"),
        ("CF31 date", "false"),
        ("CF07", "true"),
        ("CF 09", "null"),
        ("CF 177", "0"),
        ("Test CF 01", "0"),
        ("Test CF", "null"),
    ]
    assert pick(tables["badge_constraints"], *CONSTRAINT, "extra") == [
        ("CUSTOMER", "NO_LIMIT", None, None, None, "CUSTOMER_BADGE_NO_LIMIT", None),
        ("BADGE", "NO_LIMIT", None, None, None, "BADGE_NO_LIMIT", None),
    ]
    assert tables["badge_constraints"][0]["snapshot_date"] == SNAPSHOT
    assert not warnings


def test_get_badge_meta_2_fixed_windows_with_current_cycle_and_absolute_expiry():
    tables, warnings = flatten("get-badge-meta-by-id-2")
    badge = tables["badges"][0]
    assert subset(badge, {"badge_id": 0, "badge_numeric_id": 0, "is_active": 0}) == {
        "badge_id": "662749408fe258516a88fe89",
        "badge_numeric_id": None,
        "is_active": False,
    }
    # startOn 1716803487 and its twin 2024-05-27T15:21:27+05:30
    assert badge["starts_at"] == utc("2024-05-27 09:51:27")
    assert badge["expires_at"] == utc("2024-09-20 03:46:40")
    assert badge["created_at"] == utc("2024-04-23 05:38:08.811000")
    assert (badge["issued_count"], badge["earned_count"], badge["badge_rank"]) == (0, 0, 1)
    assert (
        badge["earned_expiry_type"],
        badge["earned_expiry_mode"],
        badge["earned_expires_at"],
        badge["issued_expiry_type"],
    ) == ("ABSOLUTE", "WITH_BADGE_META", None, None)
    assert orjson.loads(badge["extra"]) == {
        "images": [],
        "earnedBadgeExpiry.expireWithBadgeMeta": True,
    }
    assert pick(tables["badge_owners"], "owner_type") == [("Milestones",), ("Loyalty",)]
    assert tables["badge_claims"] == []
    assert tables["badge_custom_fields"] == []
    cols = (*CONSTRAINT, "reference_id", "cycle_status", "cycle_start_at", "cycle_end_at")
    assert pick(tables["badge_constraints"], *cols, "starts_at", "ends_at") == [
        (
            "CUSTOMER", "FIXED_WINDOW", "DAYS", 3, 1, "CUSTOMER_BADGE_FIXED_WINDOW",
            "e6791ec9-e92f-34af-bdc3-be2607fdf82c", "ACTIVE",
            utc("2024-07-02 05:35:18.011293"), utc("2024-07-04 05:35:18.011293"),
            utc("2024-05-27 09:51:27"), utc("2024-09-20 03:46:40"),
        ),
        (
            "BADGE", "FIXED_WINDOW", "DAYS", 3, 2, "BADGE_FIXED_WINDOW",
            "a1350b49-eb8e-3500-9e43-01f5493c91c1", "ACTIVE",
            utc("2024-07-02 05:35:18.011462"), utc("2024-07-04 05:35:18.011462"),
            utc("2024-05-27 09:51:27"), utc("2024-09-20 03:46:40"),
        ),
    ]  # fmt: skip
    assert [row["extra"] for row in tables["badge_constraints"]] == [None, None]
    assert not warnings


def test_get_badge_meta_3_fixed_values_images_and_tags_in_extra():
    tables, _ = flatten("get-badge-meta-by-id-3")
    badge = tables["badges"][0]
    assert badge["badge_id"] == "662724bb8fe258516a88fde2"
    assert badge["status"] == "EXPIRED"
    assert badge["starts_at"] == utc("2024-02-10 00:00:37.192000")
    assert badge["expires_at"] == utc("2024-05-10 00:00:37.192000")
    assert badge["updated_at"] == utc("2024-04-23 03:02:19.861000")
    assert (badge["earned_expiry_unit"], badge["earned_expiry_value"]) == ("DAYS", 2)
    assert (badge["issued_expiry_unit"], badge["issued_expiry_value"]) == ("DAYS", 2)
    assert orjson.loads(badge["extra"]) == {
        "images": [
            {"name": "string", "fileSvcHandle": "string", "url": "string", "tag": "UN_EARNED"}
        ],
        "tags": [{"name": "string", "value": "string"}],
    }
    assert pick(tables["badge_constraints"], *CONSTRAINT) == [
        ("CUSTOMER", "FIXED_VALUE", None, None, 100, "CUSTOMER_BADGE_FIXED_VALUE"),
        ("BADGE", "FIXED_VALUE", None, None, 1000, "BADGE_FIXED_VALUE"),
    ]


def test_get_badge_meta_4_nine_fractional_digits_and_no_counts():
    tables, _ = flatten("get-badge-meta-by-id-4")
    badge = tables["badges"][0]
    assert badge["starts_at"] == utc("2024-02-10 00:00:37.192000")
    assert badge["created_at"] == utc("2024-04-23 03:02:19.861000")
    assert (badge["issued_count"], badge["earned_count"], badge["badge_rank"]) == (None, None, None)
    assert orjson.loads(badge["extra"]) == {
        "images": [
            {"name": "string", "fileSvcHandle": "string", "url": "string", "tag": "UN_EARNED"}
        ]
    }
    assert len(tables["badge_constraints"]) == 2


def test_update_badge_meta_1_rolling_windows_and_fixed_date_issue_expiry():
    tables, warnings = flatten("update-badge-meta-1")
    badge = tables["badges"][0]
    assert (badge["badge_id"], badge["badge_numeric_id"], badge["earn_type"]) == (
        "696df3810772ad476ecf6a07",
        107,
        "ISSUE_EARN",
    )
    assert badge["created_at"] == utc("2026-01-19 09:04:01.180822")
    assert (badge["issued_expiry_mode"], badge["issued_expires_at"]) == (
        "FIXED_DATE",
        utc("2031-01-15 09:32:37"),
    )
    assert orjson.loads(badge["extra"])["issuedBadgeExpiry.expireWithBadgeMeta"] is False
    assert pick(tables["badge_constraints"], *CONSTRAINT, "starts_at", "ends_at") == [
        ("CUSTOMER", "FIXED_WINDOW", "DAYS", 3, 2, "CUSTOMER_BADGE_FIXED_WINDOW",
         utc("2024-05-27 09:51:27"), utc("2031-01-15 09:32:37")),
        ("BADGE", "FIXED_VALUE", None, None, 10000, "BADGE_FIXED_VALUE", None, None),
        ("BADGE", "ROLLING_WINDOW", "WEEKS", 1, 3000, "BADGE_ROLLING_WINDOW", None, None),
        ("BADGE", "ROLLING_WINDOW", "DAYS", 1, 300, "BADGE_ROLLING_WINDOW", None, None),
    ]  # fmt: skip
    assert not warnings


def test_update_badge_meta_2_three_pair_rolling_constraint_is_three_rows():
    tables, _ = flatten("update-badge-meta-2")
    assert tables["badges"][0]["created_at"] == utc("2026-01-19 08:58:04.807860")
    rolling = "CUSTOMER_BADGE_ROLLING_WINDOW"
    assert pick(tables["badge_constraints"], *CONSTRAINT, "reference_id", "start_day_of_week") == [
        ("CUSTOMER", "FIXED_VALUE", None, None, 100, "CUSTOMER_BADGE_FIXED_VALUE", None, None),
        ("CUSTOMER", "ROLLING_WINDOW", "DAYS", 1, 1, rolling, None, None),
        ("CUSTOMER", "ROLLING_WINDOW", "WEEKS", 1, 2, rolling, None, None),
        ("CUSTOMER", "ROLLING_WINDOW", "MONTHS", 1, 10, rolling, None, None),
        ("CUSTOMER", "FIXED_WINDOW", "WEEKS", None, 2, "CUSTOMER_BADGE_FIXED_WINDOW",
         "53b1267d-4907-364a-a2ae-5989a9b2123a", "TUESDAY"),
        ("BADGE", "FIXED_VALUE", None, None, 10000, "BADGE_FIXED_VALUE", None, None),
    ]  # fmt: skip
    # startDateISO / endDateISO are null twins of absent epochs: mapped, not extra
    assert [row["extra"] for row in tables["badge_constraints"]] == [None] * 6


def test_update_badge_meta_3_benefits_go_to_extra():
    tables, _ = flatten("update-badge-meta-3")
    badge = tables["badges"][0]
    assert badge["starts_at"] == utc("2025-07-21 00:00:00")
    assert badge["created_at"] == utc("2025-12-01 05:45:56.978660")
    assert orjson.loads(badge["extra"])["benefits"] == [
        {"benefitType": "COUPON", "seriesId": 13745}
    ]
    assert len(tables["badge_owners"]) == 9
    assert pick(
        tables["badge_constraints"], "constraint_kind", "window_unit", "max_earn_limit"
    ) == [
        ("FIXED_WINDOW", "DAYS", 2),
        ("ROLLING_WINDOW", "DAYS", 300),
        ("FIXED_VALUE", None, 10000),
        ("ROLLING_WINDOW", "WEEKS", 3000),
    ]


def test_update_badge_meta_4_upcoming_fixed_window_and_four_badge_limits():
    tables, _ = flatten("update-badge-meta-4")
    badge = tables["badges"][0]
    assert badge["updated_at"] == utc("2024-04-24 10:49:18.488460")
    assert badge["earned_expires_at"] == utc("2027-12-14 03:15:10")
    assert pick(tables["badge_constraints"], *CONSTRAINT, "cycle_status") == [
        ("CUSTOMER", "FIXED_WINDOW", "DAYS", 5, 1, "CUSTOMER_BADGE_FIXED_WINDOW", "UPCOMING"),
        ("BADGE", "FIXED_VALUE", None, None, 1000, "BADGE_FIXED_VALUE", None),
        ("BADGE", "ROLLING_WINDOW", "WEEKS", 1, 2000, "BADGE_ROLLING_WINDOW", None),
        ("BADGE", "ROLLING_WINDOW", "DAYS", 1, 100, "BADGE_ROLLING_WINDOW", None),
        ("BADGE", "ROLLING_WINDOW", "MONTHS", 1, 10000, "BADGE_ROLLING_WINDOW", None),
    ]


def test_update_badge_meta_5_no_constraints_both_expiries_fixed_date():
    tables, _ = flatten("update-badge-meta-5")
    badge = tables["badges"][0]
    assert badge["updated_at"] == utc("2024-09-09 10:36:47.750104")
    assert badge["earned_expires_at"] == badge["issued_expires_at"] == utc("2024-09-18 10:33:04")
    assert orjson.loads(badge["extra"]) == {
        "images": [],
        "tags": [],
        "earnedBadgeExpiry.expireWithBadgeMeta": False,
        "issuedBadgeExpiry.expireWithBadgeMeta": False,
    }
    assert tables["badge_constraints"] == []


def test_update_request_2_customer_fixed_window_inside_badge_constraints_is_badge_level():
    tables, _ = flatten("update-badge-meta-request-2")
    assert pick(tables["badge_constraints"], *CONSTRAINT, "start_day_of_week") == [
        ("CUSTOMER", "FIXED_VALUE", None, None, 100, "CUSTOMER_BADGE_FIXED_VALUE", None),
        ("CUSTOMER", "ROLLING_WINDOW", "DAYS", 1, 1, "CUSTOMER_BADGE_ROLLING_WINDOW", None),
        ("CUSTOMER", "ROLLING_WINDOW", "WEEKS", 1, 2, "CUSTOMER_BADGE_ROLLING_WINDOW", None),
        ("CUSTOMER", "ROLLING_WINDOW", "MONTHS", 1, 10, "CUSTOMER_BADGE_ROLLING_WINDOW", None),
        ("BADGE", "FIXED_VALUE", None, None, 10000, "BADGE_FIXED_VALUE", None),
        ("BADGE", "FIXED_WINDOW", "WEEKS", 3, 2, "CUSTOMER_BADGE_FIXED_WINDOW", "1"),
    ]
    assert pick(tables["badge_claims"], "owner_type", "reference_id", "is_active") == [
        ("Loyalty", "626", None)
    ]
