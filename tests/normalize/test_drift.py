"""The drift report: new keys and wrong types by source path, with a sample."""

import datetime as dt

import orjson

from pipelines.lake.raw import RawRecord
from pipelines.normalize.drift import table_of_path
from pipelines.normalize.normalizer import RecordNormalizer
from tests.normalize.normalize_support import FIXTURES, example

DETAIL = "customer_badge_detail"


def detail_record(data: dict) -> RawRecord:
    body = orjson.dumps({"data": data, "errors": [], "warnings": []})
    return RawRecord(DETAIL, "/x", True, 200, body, "c1", "mobile", "b1")


def test_the_vendors_examples_show_no_drift():
    normalizer = RecordNormalizer(dt.date(2026, 2, 1))
    for path in sorted(FIXTURES.glob("get-customer-badge-detail-*.json")):
        normalizer.normalize(detail_record(example(path.stem)["data"]))
    assert normalizer.report.records_read == 7
    assert (normalizer.report.new_keys, normalizer.report.wrong_types) == ({}, {})


def test_a_new_key_and_a_wrong_type_are_counted_by_path_with_a_sample():
    normalizer = RecordNormalizer(dt.date(2026, 2, 1))
    data = example("get-customer-badge-detail-7")["data"]
    data["issualDetails"]["issuals"][0]["fooBar"] = "x" * 200
    data["earnExpiry"] = 5
    normalizer.normalize(detail_record(data))
    report = normalizer.report
    new_path = f"{DETAIL}.data.issualDetails.issuals[].fooBar"
    assert report.new_keys == {new_path: 1}
    assert report.wrong_types == {f"{DETAIL}.data.earnExpiry": 1}
    assert report.drift_samples[new_path] == '"' + "x" * 78 + "…"
    assert report.drift_samples[f"{DETAIL}.data.earnExpiry"] == "5"
    assert report.warnings["customer_badge_details.earnExpiry: wrong type"] == 1


def list_record(data: dict, page: int = 0) -> RawRecord:
    body = orjson.dumps({"data": data, "errors": [], "warnings": []})
    return RawRecord(LIST, "/x?page=0&limit=10", True, 200, body, "c1", "id", None, "EARNED", page)


LIST = "customer_badges"


def test_a_list_pages_own_new_keys_and_a_wrong_typed_total_are_counted():
    normalizer = RecordNormalizer(dt.date(2026, 2, 1))
    data = example("get-customer-badges-1")["data"]
    data["cursor"] = "abc"
    data["pagination"]["total"] = "many"
    data["pagination"]["hasMore"] = True
    normalizer.normalize(list_record(data))
    report = normalizer.report
    assert report.new_keys == {f"{LIST}.data.cursor": 1, f"{LIST}.data.pagination.hasMore": 1}
    assert report.wrong_types == {f"{LIST}.data.pagination.total": 1}
    assert report.drift_samples[f"{LIST}.data.pagination.total"] == '"many"'


def test_a_constraint_key_is_counted_under_its_array_and_nested_list():
    normalizer = RecordNormalizer(dt.date(2026, 2, 1))
    data = example("get-customer-badge-detail-7")["data"]
    data["customerConstraints"] = [
        {
            "constraintType": "ROLLING_WINDOW",
            "rollingWindowLimits": [{"rollType": "DAYS", "rollValue": 1, "x": 1}],
            "tier": "gold",
        }
    ]
    normalizer.normalize(detail_record(data))
    constraints = f"{DETAIL}.data.customerConstraints[]"
    assert normalizer.report.new_keys == {
        f"{constraints}.tier": 1,
        f"{constraints}.rollingWindowLimits[].x": 1,
    }
    assert table_of_path(f"{constraints}.tier") == "customer_badge_constraints"
    assert table_of_path(f"{LIST}.data.cursor") == "customer_badges"
    assert table_of_path(f"{DETAIL}.data.fooBar") == "customer_badge_details"


def test_an_integer_past_64_bits_is_sampled_exactly():
    normalizer = RecordNormalizer(dt.date(2026, 2, 1))
    text = (FIXTURES / "get-customer-badge-detail-7.json").read_bytes()
    body = text.replace(b'"data": {', b'"data": {"bigCount": -18446744073709551616,', 1)
    rows = normalizer.normalize(RawRecord(DETAIL, "/x", True, 200, body, "c1", "mobile", "b1"))
    (detail,) = rows["customer_badge_details"]
    assert '"bigCount":-18446744073709551616' in detail["extra"]
    report = normalizer.report
    assert report.new_keys == {f"{DETAIL}.data.bigCount": 1}
    assert report.drift_samples[f"{DETAIL}.data.bigCount"] == "-18446744073709551616"


def test_an_object_or_list_of_the_right_type_left_unread_is_not_drift():
    normalizer = RecordNormalizer(dt.date(2026, 2, 1))
    data = example("get-customer-badge-detail-7")["data"]
    limits = [{"rollType": "DAYS", "rollValue": 1, "maxEarnLimit": 2}]
    data["customerConstraints"] = [
        # a fixed value reads no window list; an alias after the first is not read
        {"constraintType": "OVERALL", "maxEarnLimit": 3, "rollingWindowLimits": limits},
        {"constraintType": "FIXED_WINDOW", "currentCycle": {}, "fixedWindowCycle": {"x": 1}},
        # (of another kind: a second OVERALL would repeat the first's key)
        {"constraintType": "CUSTOMER_BADGE_NO_LIMIT", "rollingWindowLimits": {"rollType": "DAYS"}},
    ]
    rows = normalizer.normalize(detail_record(data))
    levels = [row["constraint_level"] for row in rows["customer_badge_constraints"]]
    assert levels.count("CUSTOMER") == 3
    assert normalizer.report.new_keys == {}
    path = f"{DETAIL}.data.customerConstraints[].rollingWindowLimits"
    assert normalizer.report.wrong_types == {path: 1}


def test_a_null_alias_left_unread_after_a_refused_key_is_no_wrong_type():
    # Found by the mutation tests: lastEarnedOnDateISO (null) stayed unread once
    # lastEarnedOnISO was refused, and counted as a wrong type.
    normalizer = RecordNormalizer(dt.date(2026, 2, 1))
    data = example("get-customer-badge-detail-1")["data"]
    assert data["lastEarnedOnDateISO"] is None
    data["lastEarnedOnISO"] = []
    normalizer.normalize(detail_record(data))
    assert normalizer.report.wrong_types == {f"{DETAIL}.data.lastEarnedOnISO": 1}
