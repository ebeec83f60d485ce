"""A twin or second name that disagrees with the column is kept in `extra` and counted as a
disagreement; an earn under names the mapping does not know is a row with a derived key,
and the mapping coverage names the keys it carried."""

from __future__ import annotations

import datetime as dt

import orjson

from pipelines.lake.raw import RawRecord
from pipelines.normalize.normalizer import RecordNormalizer
from pipelines.sandbox.faults import RENAMED_EARN_KEYS, with_renamed_earns
from tests.normalize.normalize_support import example, utc

DAY = dt.date(2026, 2, 1)
META = "badge_meta.data"
EARNS = "customer_badge_detail.data.earnDetails.earns[]"


def meta_record(data: dict) -> RawRecord:
    body = orjson.dumps({"data": data, "errors": None, "warnings": None})
    return RawRecord("badge_meta", "/x", True, 200, body, None, None, data["id"])


def detail_record(body: bytes, badge_id: str) -> RawRecord:
    return RawRecord("customer_badge_detail", "/x", True, 200, body, "c1", "id", badge_id)


def test_a_twin_that_is_not_a_date_is_kept_in_extra_as_a_disagreement() -> None:
    data = example("get-badge-meta-by-id-1")["data"]
    before = RecordNormalizer(DAY).normalize(meta_record(data))["badges"][0]
    data["startOnISO"] = "Ünïcødé"
    normalizer = RecordNormalizer(DAY)

    (badge,) = normalizer.normalize(meta_record(data))["badges"]

    assert badge["starts_at"] == before["starts_at"] is not None
    assert orjson.loads(badge["extra"])["startOnISO"] == "Ünïcødé"
    assert normalizer.report.disagreements == {f"{META}.startOnISO": 1}
    assert normalizer.report.drift_samples[f"{META}.startOnISO"] == '"Ünïcødé"'
    assert normalizer.report.warnings == {"badges.starts_at: ISO twin disagrees": 1}
    assert normalizer.report.wrong_types == {}


def test_a_twin_of_the_same_instant_or_the_broken_form_is_not_kept() -> None:
    data = example("get-badge-meta-by-id-1")["data"]
    data["startOn"] = 1765185213.63
    data["startOnISO"] = "2025-12-08T14:43:33.630+05:30"  # the same instant, elsewhere
    data["expiresOn"] = 1765178896000.0  # milliseconds, whose twin reads a year past 9999
    data["expiresOnISO"] = "+57906-04-18T00:00:00Z"
    normalizer = RecordNormalizer(DAY)

    (badge,) = normalizer.normalize(meta_record(data))["badges"]

    extra = orjson.loads(badge["extra"] or "{}")
    assert "startOnISO" not in extra and "expiresOnISO" not in extra
    assert badge["starts_at"] == utc("2025-12-08 09:13:33.630000")
    assert normalizer.report.disagreements == {}
    assert not normalizer.report.warnings


def test_a_second_name_with_another_value_is_a_disagreement_and_an_equal_one_is_not() -> None:
    data = example("get-badge-meta-by-id-1")["data"]
    data["badgeStatus"] = "ENDED"  # status is read first
    data["isActive"] = data["active"]
    normalizer = RecordNormalizer(DAY)

    (badge,) = normalizer.normalize(meta_record(data))["badges"]

    assert badge["status"] == data["status"] != "ENDED"
    extra = orjson.loads(badge["extra"])
    assert extra["badgeStatus"] == "ENDED" and extra["isActive"] == data["active"]
    assert normalizer.report.disagreements == {f"{META}.badgeStatus": 1}


def test_earns_under_other_names_are_rows_with_derived_keys_and_their_keys_are_named() -> None:
    answer = example("get-customer-badge-detail-7")
    earns = [
        {
            "earnId": f"e-{n}",
            "earnedOn": 1728282000 + n,
            "earnedOnISO": "2024-10-07T06:20:00Z",
            "earnStatus": "ACTIVE",
            "ownerType": "Loyalty",
        }
        for n in range(3)
    ]
    answer["data"]["earnDetails"] = {"earnCount": 3, "earns": earns}
    body = with_renamed_earns("customer_badge_detail", orjson.dumps(answer))
    normalizer = RecordNormalizer(DAY)

    rows = normalizer.normalize(detail_record(body, answer["data"]["id"]))

    badge_id = answer["data"]["id"]
    assert [(r["earn_id"], r["key_derived"]) for r in rows["badge_earns"]] == [
        (f"~c1:{badge_id}::{n}", True) for n in range(3)
    ]
    renamed = {RENAMED_EARN_KEYS["earnId"]: "e-1", RENAMED_EARN_KEYS["earnStatus"]: "ACTIVE"}
    assert renamed.items() <= orjson.loads(rows["badge_earns"][1]["extra"]).items()
    report = normalizer.report
    assert (report.objects[EARNS], report.unmapped[EARNS]) == (3, 3)
    assert report.unmapped_keys[EARNS] == {
        "id": 3,
        "earnedDate": 3,
        "earnedDateISO": 3,
        "state": 3,
        "awardedByType": 3,
    }
    assert report.warnings["badge_earns.earn_id: derived"] == 3
    assert report.unmapped.keys() == {EARNS}  # every other kind filled its columns


def test_coverage_counts_every_kind_of_object_of_an_example() -> None:
    normalizer = RecordNormalizer(DAY)
    normalizer.normalize(meta_record(example("get-badge-meta-by-id-1")["data"]))
    report = normalizer.report
    assert report.objects == {
        META: 1,
        f"{META}.ownership.claims[]": 2,
        f"{META}.badgeConstraints[]": 1,
        f"{META}.customerConstraints[]": 1,
    }
    assert report.unmapped == {}
