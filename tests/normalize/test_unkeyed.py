"""An answer, or an item of one, without the id its rows are keyed on is a row of
`extract_errors` naming it (endpoint, customer, badge or list, where and what), never a row
with a null key nor dropped."""

import datetime as dt

import orjson

from pipelines.lake.raw import RawRecord
from pipelines.normalize.normalizer import RecordNormalizer
from tests.normalize.normalize_support import example

DAY = dt.date(2026, 2, 1)
ERROR = ("endpoint", "customer_id", "identifier_type", "badge_id", "list_type", "error_code")


def record(endpoint: str, data: object, badge_id: str | None = None, **more) -> RawRecord:
    body = orjson.dumps({"data": data, "errors": [], "warnings": []})
    return RawRecord(endpoint, "/x", True, 200, body, "c1", "id", badge_id, attempts=2, **more)


def errors_of(rows: dict) -> list[tuple]:
    return [
        (*(row[c] for c in ERROR), row["http_status"], row["attempts"], row["message"])
        for row in rows.get("extract_errors", [])
    ]


def test_list_items_not_objects_or_without_a_badge_id_are_named_in_extract_errors():
    normalizer = RecordNormalizer(DAY)
    entries = example("get-customer-badges-1")["data"]["badges"][:3]
    entries[1] = 7
    del entries[2]["badgeMetaId"]
    list_record = record("customer_badges", {"badges": entries}, list_type="EARNED", page=2)
    rows = normalizer.normalize(
        RawRecord(**{**vars(list_record), "request_path": "/x?page=2&limit=10"})
    )
    assert [row["badge_id"] for row in rows["customer_badges"]] == [entries[0]["badgeMetaId"]]
    listed = ("customer_badges", "c1", "id", None, "EARNED", "unkeyed", 200, 2)
    (not_object, no_id) = errors_of(rows)
    assert not_object == (*listed, "data.badges[1] (position 21) is not an object: 7")
    assert no_id[:-1] == listed
    assert no_id[-1].startswith('data.badges[2] (position 22) has no badge id: {"orgId":100458,')
    assert normalizer.report.warnings == {
        "customer_badges: list item not an object": 1,
        "customer_badges.badge_id: missing": 1,
    }


def test_a_detail_or_meta_with_no_id_and_none_requested_is_one_extract_errors_row():
    normalizer = RecordNormalizer(DAY)
    detail = example("get-customer-badge-detail-7")["data"]
    del detail["id"]
    rows = normalizer.normalize(record("customer_badge_detail", detail))
    assert list(rows) == ["extract_errors"]
    message = "data has no badge id (id), and the call named none"
    assert errors_of(rows) == [
        ("customer_badge_detail", "c1", "id", None, None, "unkeyed", 200, 2, message)
    ]
    meta = example("get-badge-meta-by-id-1")["data"]
    del meta["id"]
    assert list(normalizer.normalize(record("badge_meta", meta))) == ["extract_errors"]
    # The badge the call named keys them, whatever the answer says.
    assert normalizer.normalize(record("badge_meta", meta, "b9"))["badges"][0]["badge_id"] == "b9"


def test_an_issual_without_its_id_is_a_row_with_a_derived_key_and_an_empty_one_is_named():
    normalizer = RecordNormalizer(DAY)
    data = example("get-customer-badge-detail-7")["data"]
    issuals = data["issualDetails"]["issuals"]
    issuals += [{**issuals[0], "issueId": None}, {**issuals[0], "issueId": "i3"}, {}]
    rows = normalizer.normalize(record("customer_badge_detail", data, data["id"]))
    issued_at = rows["badge_issuals"][0]["issued_at"]
    derived = f"~c1:{data['id']}:{issued_at}:1"
    assert [(row["issue_id"], row["key_derived"]) for row in rows["badge_issuals"]] == [
        (issuals[0]["issueId"], False),
        (derived, True),
        ("i3", False),
    ]
    assert rows["badge_issuals"][1]["revoked_at"] == rows["badge_issuals"][0]["revoked_at"]
    ((*keys, message),) = errors_of(rows)
    assert keys == ["customer_badge_detail", "c1", "id", data["id"], None, "unkeyed", 200, 2]
    assert message == "data.issualDetails.issuals[3] carries nothing: {}"
    assert normalizer.report.warnings["badge_issuals.issue_id: derived"] == 1
    assert normalizer.report.warnings["badge_issuals.issue_id: missing"] == 1


def test_a_constraint_array_with_a_non_object_item_keeps_it_in_extra():
    normalizer = RecordNormalizer(DAY)
    data = example("get-customer-badge-detail-7")["data"]
    constraint = {"constraintType": "OVERALL", "maxEarnLimit": 3}
    data["customerConstraints"] = [constraint, "x"]
    rows = normalizer.normalize(record("customer_badge_detail", data, data["id"]))
    customer = [
        r for r in rows["customer_badge_constraints"] if r["constraint_level"] == "CUSTOMER"
    ]
    assert [(r["constraint_kind"], r["max_earn_limit"]) for r in customer] == [("FIXED_VALUE", 3)]
    (detail,) = rows["customer_badge_details"]
    assert orjson.loads(detail["extra"])["customerConstraints"] == [constraint, "x"]
    assert normalizer.report.warnings == {
        "customer_badge_constraints: customerConstraints has non-object items": 1
    }
    assert normalizer.report.wrong_types == {"customer_badge_detail.data.customerConstraints": 1}


def test_an_empty_badge_or_issue_id_keys_nothing_either():
    normalizer = RecordNormalizer(DAY)
    entries = example("get-customer-badges-1")["data"]["badges"][:2]
    entries[1]["badgeMetaId"] = ""
    rows = normalizer.normalize(record("customer_badges", {"badges": entries}, list_type="EARNED"))
    assert len(rows["customer_badges"]) == 1
    assert [e[-1][:38] for e in errors_of(rows)] == ["data.badges[1] (position 1) has no bad"]
    data = example("get-customer-badge-detail-7")["data"]
    data["issualDetails"]["issuals"][0]["issueId"] = ""
    rows = normalizer.normalize(record("customer_badge_detail", data, data["id"]))
    (issual,) = rows["badge_issuals"]  # keyed on what it carries, the empty id kept
    assert issual["key_derived"] and issual["issue_id"].startswith(f"~c1:{data['id']}:")
    assert orjson.loads(issual["extra"]) == {"issueId": ""}
    assert "extract_errors" not in rows
