"""Malformed and unusual values: null in the column, raw value in extra, a counted warning."""

from collections import Counter

import orjson

from pipelines.lake.raw import RawRecord
from pipelines.normalize.flatten import (
    flatten_badge_meta,
    flatten_customer_badge_detail,
    flatten_error,
)
from pipelines.normalize.reader import parse_json
from tests.normalize.normalize_support import CONSTRAINT, SNAPSHOT, pick, utc


def test_garbage_timestamp_is_null_and_kept_with_its_twin_in_extra():
    warnings = Counter()
    data = {"id": "b1", "startOn": "soon", "startOnISO": "2024-01-01T00:00:00Z", "expiresOn": 1}
    (badge,) = flatten_badge_meta(data, SNAPSHOT, warnings)["badges"]
    assert badge["starts_at"] is None
    assert badge["expires_at"] == utc("1970-01-01 00:00:01")
    assert orjson.loads(badge["extra"]) == {"startOn": "soon", "startOnISO": "2024-01-01T00:00:00Z"}
    assert warnings == Counter({"badges.starts_at: unparseable": 1})


def test_iso_is_used_only_when_the_epoch_is_null():
    warnings = Counter()
    data = {
        "id": "b1",
        "startOn": None,
        "startOnISO": "2024-05-27T15:21:27+05:30",
        "expiresOn": 1726804000,
        "expiresOnISO": "1999-01-01T00:00:00Z",
    }
    (badge,) = flatten_badge_meta(data, SNAPSHOT, warnings)["badges"]
    assert badge["starts_at"] == utc("2024-05-27 09:51:27")
    assert badge["expires_at"] == utc("2024-09-20 03:46:40")
    # the twin that says another instant is kept beside the epoch's column, counted
    assert orjson.loads(badge["extra"]) == {"expiresOnISO": "1999-01-01T00:00:00Z"}
    assert warnings == Counter({"badges.expires_at: ISO twin disagrees": 1})


def test_iso_year_past_9999_without_epoch_is_null_warned_and_kept():
    warnings = Counter()
    data = {"id": "b1", "startsOn": None, "startsOnISO": "+57906-04-18T07:06:40Z"}
    tables = flatten_customer_badge_detail(data, "c1", "id", "b1", SNAPSHOT, warnings)
    (detail,) = tables["customer_badge_details"]
    assert detail["starts_at"] is None
    assert orjson.loads(detail["extra"]) == {"startsOnISO": "+57906-04-18T07:06:40Z"}
    assert warnings == Counter({"customer_badge_details.starts_at: year > 9999": 1})


def test_wrong_types_are_null_kept_in_extra_and_counted():
    warnings = Counter()
    data = {
        "id": "b1",
        "orgId": "abc",
        "active": "yes",
        "badgeRank": 2.0,
        "badgeNumericId": "+-5",
        "createdBy": " 75086856 ",
        "name": ["not", "text"],
        "earnedBadgeExpiry": {"expiryType": "RELATIVE", "value": "two", "foo": 1},
        "issuedBadgeExpiry": "never",
    }
    (badge,) = flatten_badge_meta(data, SNAPSHOT, warnings)["badges"]
    assert (badge["org_id"], badge["is_active"], badge["badge_rank"], badge["name"]) == (
        None,
        None,
        2,
        None,
    )
    assert (badge["badge_numeric_id"], badge["created_by"]) == (None, 75086856)
    assert (badge["earned_expiry_type"], badge["earned_expiry_value"]) == ("RELATIVE", None)
    assert orjson.loads(badge["extra"]) == {
        "orgId": "abc",
        "active": "yes",
        "badgeNumericId": "+-5",
        "name": ["not", "text"],
        "issuedBadgeExpiry": "never",
        "earnedBadgeExpiry.value": "two",
        "earnedBadgeExpiry.foo": 1,
    }
    assert warnings == Counter(
        {
            "badges.org_id: wrong type": 1,
            "badges.badge_numeric_id: wrong type": 1,
            "badges.is_active: wrong type": 1,
            "badges.name: wrong type": 1,
            "badges.earned_expiry_value: wrong type": 1,
            "badges.issuedBadgeExpiry: wrong type": 1,
        }
    )


def test_custom_fields_are_rows_and_non_strings_keep_their_json():
    warnings = Counter()
    data = {"id": "b1", "customFields": {"a": "1", "b": 2, "c": None, "d": True}}
    rows = flatten_badge_meta(data, SNAPSHOT, warnings)["badge_custom_fields"]
    assert pick(rows, "badge_id", "field_name", "field_value") == [
        ("b1", "a", "1"),
        ("b1", "b", "2"),
        ("b1", "c", None),
        ("b1", "d", "true"),
    ]
    tables = flatten_badge_meta({"id": "b2", "customFields": ["x"]}, SNAPSHOT, warnings)
    assert tables["badge_custom_fields"] == []
    assert orjson.loads(tables["badges"][0]["extra"]) == {"customFields": ["x"]}
    assert warnings == Counter({"badges.customFields: wrong type": 1})


def test_unknown_constraint_type_keeps_a_row_and_its_keys():
    warnings = Counter()
    data = {"id": "b1", "badgeConstraints": [{"constraintType": "BADGE_LUNAR", "phase": "full"}]}
    rows = flatten_badge_meta(data, SNAPSHOT, warnings)["badge_constraints"]
    assert pick(rows, *CONSTRAINT, "extra") == [
        ("BADGE", None, None, None, None, "BADGE_LUNAR", '{"phase":"full"}')
    ]
    assert warnings == Counter({"badge_constraints.constraint_kind: unknown constraintType": 1})


def test_detail_rolling_window_limits_are_one_row_each_with_unit_counts():
    warnings = Counter()
    constraint = {
        "constraintLevel": "BADGE",  # disagrees with the array it sits in
        "constraintType": "ROLLING_WINDOW",
        "rollType": None,
        "rollValue": None,
        "durationType": "DAILY",
        "maxEarnLimit": None,
        "earnConstraintBlockStatistics": {
            "currentEarnCount": None,
            "currentEarnCountDays": 4,
            "currentEarnCountWeeks": None,
            "currentEarnCountMonths": 9,
        },
        "rollingWindowLimits": [
            {"rollType": "DAILY", "rollValue": 1, "maxEarnLimit": 5},
            {"rollType": "MONTHS", "rollValue": 2, "maxEarnLimit": 20, "note": "x"},
        ],
    }
    data = {"id": "b1", "customerConstraints": [constraint]}
    rows = flatten_customer_badge_detail(data, "c1", "id", "b1", SNAPSHOT, warnings)[
        "customer_badge_constraints"
    ]
    assert pick(rows, *CONSTRAINT, "current_earn_count") == [
        ("CUSTOMER", "ROLLING_WINDOW", "DAYS", 1, 5, "ROLLING_WINDOW", 4),
        ("CUSTOMER", "ROLLING_WINDOW", "MONTHS", 2, 20, "ROLLING_WINDOW", 9),
    ]
    assert [orjson.loads(row["extra"]) for row in rows] == [
        {"constraintLevel": "BADGE", "durationType": "DAILY"},
        {"constraintLevel": "BADGE", "durationType": "DAILY", "rollingWindowLimits.note": "x"},
    ]
    assert not warnings


def test_units_normalize_and_unknown_units_are_warned():
    warnings = Counter()
    data = {
        "id": "b1",
        "customerConstraints": [
            {
                "constraintType": "CUSTOMER_BADGE_FIXED_WINDOW",
                "durationType": "WEEKLY",
                "refreshRate": 2,
            },
            {
                "constraintType": "CUSTOMER_BADGE_FIXED_WINDOW",
                "durationType": "YEARS",
                "refreshRate": 1,
            },
        ],
    }
    rows = flatten_badge_meta(data, SNAPSHOT, warnings)["badge_constraints"]
    assert pick(rows, "window_unit", "window_length", "extra") == [
        ("WEEKS", 2, None),
        (None, 1, '{"durationType":"YEARS"}'),
    ]
    assert warnings == Counter({"badge_constraints.window_unit: unknown unit": 1})


def test_detail_id_differing_from_the_requested_badge_stays_in_extra():
    tables = flatten_customer_badge_detail({"id": "other"}, "c1", "id", "b1", SNAPSHOT, Counter())
    (detail,) = tables["customer_badge_details"]
    assert (detail["badge_id"], detail["extra"]) == ("b1", '{"id":"other"}')


def test_flatten_error_copies_the_failed_call():
    record = RawRecord(
        endpoint="customer_badges",
        request_path="/api_gateway/v1/badges/customer/42?badgeType=EARNED&page=0&limit=50",
        ok=False,
        http_status=404,
        customer_id="42",
        identifier_type="id",
        list_type="EARNED",
        attempts=3,
        error_code="1026",
        error_message="Customer not found",
    )
    assert flatten_error(record, SNAPSHOT) == {
        "extract_errors": [
            {
                "snapshot_date": SNAPSHOT,
                "endpoint": "customer_badges",
                "customer_id": "42",
                "identifier_type": "id",
                "badge_id": None,
                "list_type": "EARNED",
                "http_status": 404,
                "error_code": "1026",
                "message": "Customer not found",
                "attempts": 3,
            }
        ]
    }


def test_a_constraint_array_that_is_not_an_array_is_kept_in_extra_and_counted():
    warnings = Counter()
    data = {"id": "b1", "customerConstraints": 5, "badgeConstraints": True}
    tables = flatten_customer_badge_detail(data, "c1", "id", "b1", SNAPSHOT, warnings)
    (detail,) = tables["customer_badge_details"]
    assert tables["customer_badge_constraints"] == []
    assert orjson.loads(detail["extra"]) == {"customerConstraints": 5, "badgeConstraints": True}
    assert warnings == Counter(
        {
            "customer_badge_constraints: customerConstraints not an array": 1,
            "customer_badge_constraints: badgeConstraints not an array": 1,
        }
    )
    meta = flatten_badge_meta(
        {"id": "b1", "badgeConstraints": {"maxEarnLimit": 3}}, SNAPSHOT, warnings
    )
    assert meta["badge_constraints"] == []
    assert orjson.loads(meta["badges"][0]["extra"]) == {"badgeConstraints": {"maxEarnLimit": 3}}
    assert warnings["badge_constraints: badgeConstraints not an array"] == 1


def test_integers_past_64_bits_keep_their_exact_text():
    warnings = Counter()
    body = b'{"id": "b1", "orgId": 18446744073709551616, "tally": -9223372036854775809}'
    (badge,) = flatten_badge_meta(parse_json(body), SNAPSHOT, warnings)["badges"]
    assert badge["org_id"] is None
    assert badge["extra"] == '{"orgId":18446744073709551616,"tally":-9223372036854775809}'
    assert warnings == Counter({"badges.org_id: out of range": 1})


def test_an_iso_twin_that_is_not_text_or_is_empty_stays_in_extra():
    # Found by the mutation tests: a read epoch marked its twin used, whatever it held.
    warnings = Counter()
    data = {"id": "b1", "startOn": 1716803487, "startOnISO": [], "expiresOn": 1, "expiresOnISO": ""}
    (badge,) = flatten_badge_meta(data, SNAPSHOT, warnings)["badges"]
    assert (badge["starts_at"], badge["expires_at"]) == (1716803487000000, 1000000)
    assert orjson.loads(badge["extra"]) == {"startOnISO": [], "expiresOnISO": ""}
    assert warnings == Counter(
        {"badges.starts_at: ISO twin wrong type": 1, "badges.expires_at: ISO twin wrong type": 1}
    )


def test_a_window_key_of_another_kind_is_mapped_only_when_null():
    # Found by the mutation tests: a scalar window key holding [] was taken for empty.
    warnings = Counter()
    constraint = {
        "constraintType": "OVERALL",
        "maxEarnLimit": 2,
        "durationType": [],
        "refreshRate": None,
        "rollingWindowLimits": [],
    }
    data = {"id": "b1", "badgeConstraints": [constraint]}
    (row,) = flatten_badge_meta(data, SNAPSHOT, warnings)["badge_constraints"]
    assert (row["constraint_kind"], row["max_earn_limit"]) == ("FIXED_VALUE", 2)
    assert orjson.loads(row["extra"]) == {"durationType": []}


def test_an_empty_id_keys_no_row():
    # Found by the mutation tests: a meta whose id was "" lost it (the row took the
    # requested id); a list entry or issual would have been keyed on "".
    warnings = Counter()
    (badge,) = flatten_badge_meta({"id": "", "name": "x"}, SNAPSHOT, warnings, "b1")["badges"]
    assert (badge["badge_id"], badge["extra"]) == ("b1", '{"id":""}')
    assert warnings == Counter({"badges.badge_id: empty": 1})
