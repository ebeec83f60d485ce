"""The drift report: new keys and wrong types by source path, with a sample."""

import datetime as dt

import orjson

from pipelines.lake.raw import RawRecord
from pipelines.normalize.snapshot import RecordNormalizer
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
