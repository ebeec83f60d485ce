"""Every response example of the customer badge detail page, plus a made-up earn."""

from collections import Counter

import orjson

from pipelines.normalize.flatten import flatten_customer_badge_detail
from tests.normalize.normalize_support import CONSTRAINT, SNAPSHOT, example, pick, utc

CUSTOMER = "919999999994"
DETAIL_TABLES = [
    "customer_badge_details",
    "customer_badge_constraints",
    "badge_issuals",
    "badge_earns",
]


def flatten(data: dict) -> tuple[dict, Counter]:
    warnings = Counter()
    tables = flatten_customer_badge_detail(
        data, CUSTOMER, "mobile", data.get("id"), SNAPSHOT, warnings
    )
    assert list(tables) == DETAIL_TABLES
    return tables, warnings


def flatten_example(name: str) -> tuple[dict, Counter]:
    return flatten(example(name)["data"])


def test_detail_1_millisecond_epochs_with_year_57906_iso_twins():
    tables, warnings = flatten_example("get-customer-badge-detail-1")
    (detail,) = tables["customer_badge_details"]
    assert detail["badge_id"] == "693696bdcebb9648d89735b3"
    assert (detail["customer_id"], detail["identifier_type"]) == (CUSTOMER, "mobile")
    assert detail["badge_name"] == "Badge Issueds_Test6 "
    assert (detail["badge_type"], detail["action"], detail["badge_status"]) == (
        "ISSUE_EARN",
        "ACTIVATED",
        "UPCOMING",
    )
    # startsOn 1765178896000.000000000 is milliseconds; its ISO twin says +57906
    assert detail["starts_at"] == utc("2025-12-08 07:28:16")
    assert detail["expires_at"] == utc("2026-12-03 05:19:02.001000")
    assert detail["created_at"] == detail["updated_at"] == utc("2025-12-08 09:13:33.630000")
    assert (
        detail["earn_expiry_type"],
        detail["earn_expiry_unit"],
        detail["earn_expiry_value"],
    ) == (
        "RELATIVE",
        "WEEKS",
        2,
    )
    assert (detail["issue_expiry_mode"], detail["issue_expires_at"]) == (
        "FIXED_DATE",
        utc("2026-12-03 05:50:42"),
    )
    assert (detail["issued_count"], detail["earn_count"], detail["active_earned_count"]) == (
        0,
        0,
        0,
    )
    assert (detail["last_earned_at"], detail["last_earn_event_at"], detail["badge_rank"]) == (
        None,
        None,
        3,
    )
    extra = orjson.loads(detail["extra"])
    assert list(extra) == [
        "description", "owner", "claimedBy", "images", "tags", "customFields",
        "issueExpiry.expireWithBadgeMeta",
    ]  # fmt: skip
    assert extra["owner"][:2] == ["Loyalty_Promotion", "Loyalty"]
    assert extra["customFields"]["Badge use"] == "uses"
    cols = (*CONSTRAINT, "cycle_status", "reference_id", "current_earn_count", "extra")
    assert pick(tables["customer_badge_constraints"], *cols) == [
        ("CUSTOMER", "FIXED_WINDOW", "DAYS", 3, 2, "FIXED_WINDOW", "UPCOMING",
         "e6791ec9-e92f-34af-bdc3-be2607fdf82c", None, None),
        ("BADGE", "FIXED_VALUE", None, None, 10000, "OVERALL", None, None, 0, None),
        ("BADGE", "ROLLING_WINDOW", "WEEKS", 1, 3000, "ROLLING_WINDOW", None, None, 0, None),
        ("BADGE", "ROLLING_WINDOW", "DAYS", 1, 300, "ROLLING_WINDOW", None, None, 0, None),
    ]  # fmt: skip
    assert tables["badge_issuals"] == tables["badge_earns"] == []
    assert not warnings


def test_detail_2_overall_constraints_at_both_levels():
    tables, warnings = flatten_example("get-customer-badge-detail-2")
    (detail,) = tables["customer_badge_details"]
    assert detail["starts_at"] == utc("2024-02-10 00:00:37.192000")
    assert (detail["issue_expiry_unit"], detail["issue_expiry_value"]) == ("DAYS", 2)
    assert orjson.loads(detail["extra"]) == {
        "description": "Moving window",
        "owner": ["Loyalty"],
        "claimedBy": [],
        "images": [
            {"name": "string", "fileSvcHandle": "string", "url": "string", "tag": "UN_EARNED"}
        ],
        "customFields": {},
    }
    assert pick(tables["customer_badge_constraints"], *CONSTRAINT, "current_earn_count") == [
        ("CUSTOMER", "FIXED_VALUE", None, None, 100, "OVERALL", 0),
        ("BADGE", "FIXED_VALUE", None, None, 1000, "OVERALL", 0),
    ]
    assert not warnings


def test_detail_3_fixed_window_cycles_from_fixed_window_cycle():
    tables, _ = flatten_example("get-customer-badge-detail-3")
    (detail,) = tables["customer_badge_details"]
    assert (detail["action"], detail["badge_status"]) == ("DE_ACTIVATED", "LIVE")
    assert (
        detail["earn_expiry_type"],
        detail["earn_expiry_mode"],
        detail["issue_expiry_type"],
    ) == (
        "ABSOLUTE",
        "WITH_BADGE_META",
        None,
    )
    assert orjson.loads(detail["extra"])["earnExpiry.expireWithBadgeMeta"] is True
    cols = (*CONSTRAINT, "reference_id", "cycle_start_at", "cycle_end_at", "current_earn_count")
    assert pick(tables["customer_badge_constraints"], *cols) == [
        ("CUSTOMER", "FIXED_WINDOW", "DAYS", 3, 1, "FIXED_WINDOW",
         "e6791ec9-e92f-34af-bdc3-be2607fdf82c",
         utc("2024-07-02 06:08:54.389096"), utc("2024-07-04 06:08:54.389096"), 0),
        ("BADGE", "FIXED_WINDOW", "DAYS", 3, 2, "FIXED_WINDOW",
         "a1350b49-eb8e-3500-9e43-01f5493c91c1",
         utc("2024-07-02 06:08:54.389096"), utc("2024-07-04 06:08:54.389096"), 0),
    ]  # fmt: skip


def test_detail_4_without_statistics_has_no_constraints_or_counts():
    tables, _ = flatten_example("get-customer-badge-detail-4")
    (detail,) = tables["customer_badge_details"]
    assert detail["badge_id"] == "662749408fe258516a88fe89"
    assert (detail["issued_count"], detail["earn_count"], detail["active_earned_count"]) == (
        None,
        None,
        0,
    )
    assert detail["created_at"] == utc("2024-04-23 05:38:08.811000")
    assert tables["customer_badge_constraints"] == []


def test_detail_5_without_statistics_relative_expiries():
    tables, _ = flatten_example("get-customer-badge-detail-5")
    (detail,) = tables["customer_badge_details"]
    assert (detail["badge_id"], detail["badge_status"]) == ("662724bb8fe258516a88fde2", "EXPIRED")
    assert (detail["earn_expiry_unit"], detail["issue_expiry_unit"]) == ("DAYS", "DAYS")
    assert detail["expires_at"] == utc("2024-05-10 00:00:37.192000")
    assert tables["customer_badge_constraints"] == []


def test_detail_6_group_and_fixed_date_expiries():
    tables, _ = flatten_example("get-customer-badge-detail-6")
    (detail,) = tables["customer_badge_details"]
    assert (detail["badge_group_id"], detail["badge_group_name"], detail["badge_rank"]) == (
        "6628a81728b59f41667acd23",
        "group_1",
        2,
    )
    assert detail["starts_at"] == utc("2024-08-31 18:30:00")
    assert detail["created_at"] == utc("2024-08-29 04:57:21.472000")
    assert detail["earn_expires_at"] == utc("2024-09-26 18:30:00")
    assert detail["issue_expires_at"] == utc("2025-08-27 18:30:00")
    extra = orjson.loads(detail["extra"])
    assert len(extra["customFields"]) == 10
    assert extra["customFields"]["HiNikhil"] == "Helo"


def test_detail_7_revoked_issual_to_the_microsecond():
    tables, warnings = flatten_example("get-customer-badge-detail-7")
    (detail,) = tables["customer_badge_details"]
    assert (detail["issued_status"], detail["issued_count"], detail["earn_count"]) == (
        "REVOKED",
        1,
        0,
    )
    assert tables["badge_issuals"] == [
        {
            "snapshot_date": SNAPSHOT,
            "fetched_on": SNAPSHOT,
            "customer_id": CUSTOMER,
            "identifier_type": "mobile",
            "badge_id": "67037d51d33ceb2ad0a69b1b",
            "issue_id": "67037d71d33ceb2ad0a69b1c",
            "key_derived": False,
            "issued_at": utc("2024-10-07 06:19:29.300000"),
            "issued_status": "REVOKED",
            "issue_expires_at": utc("2031-01-15 09:32:37"),
            "owner_type": "Loyalty",
            "owner_reference_id": "123456789",
            "revoked_at": utc("2024-10-07 06:23:21.451000"),
            "issue_event_at": utc("2024-10-07 05:30:28"),
            "extra": None,
        }
    ]
    assert pick(tables["customer_badge_constraints"], "cycle_start_at", "cycle_end_at")[0] == (
        utc("2024-10-07 06:25:21.257903"),
        utc("2024-10-09 06:25:21.257903"),
    )
    assert len(tables["customer_badge_constraints"]) == 4
    assert not warnings


def test_made_up_earn_keeps_its_unknown_key_in_extra():
    data = example("get-customer-badge-detail-7")["data"]
    data["earnDetails"] = {
        "earnCount": 1,
        "earns": [
            {
                "earnId": "e-1",
                "earnedOn": 1728282000.5,
                "earnEventDate": 1728281999000,
                "earnExpiresOn": None,
                "earnExpiresOnISO": "2024-10-21T06:20:00+05:30",
                "earnStatus": "ACTIVE",
                "issueId": "67037d71d33ceb2ad0a69b1c",
                "ownerType": "Loyalty",
                "ownerReferenceId": "program-7",
                "milestoneName": "5 transactions",
            }
        ],
    }
    tables, warnings = flatten(data)
    assert tables["badge_earns"] == [
        {
            "snapshot_date": SNAPSHOT,
            "fetched_on": SNAPSHOT,
            "customer_id": CUSTOMER,
            "identifier_type": "mobile",
            "badge_id": "67037d51d33ceb2ad0a69b1b",
            "earn_id": "e-1",
            "key_derived": False,
            "earned_at": utc("2024-10-07 06:20:00.500000"),
            "earn_event_at": utc("2024-10-07 06:19:59"),
            "earn_expires_at": utc("2024-10-21 00:50:00"),
            "earn_status": "ACTIVE",
            "issue_id": "67037d71d33ceb2ad0a69b1c",
            "owner_type": "Loyalty",
            "owner_reference_id": "program-7",
            "extra": '{"milestoneName":"5 transactions"}',
        }
    ]
    assert tables["customer_badge_details"][0]["earn_count"] == 1
    assert not warnings
