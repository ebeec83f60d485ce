"""Entries the vendor repeats: an exact repeat is one row, counted at its path; a repeat of
the key with other values keeps the first as the row and the other whole in
`extract_errors`; and for every table with a unique key, no answer the vendor may repeat
entries in trips the warehouse's unique-key check."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import duckdb
import orjson
import pytest

from pipelines.lake.raw import RawRecord
from pipelines.lake.tables import TABLES
from pipelines.normalize.normalizer import RecordNormalizer
from pipelines.normalize.writer import rows_to_arrow
from pipelines.warehouse.checks import check_unique_key
from tests.normalize.normalize_support import example

DAY = dt.date(2026, 2, 1)
EARN = {
    "earnId": "e-1",
    "earnedOn": 1728282000.5,
    "earnStatus": "ACTIVE",
    "issueId": "67037d71d33ceb2ad0a69b1c",
}


def detail_with_an_earn() -> dict[str, Any]:
    answer = example("get-customer-badge-detail-7")
    answer["data"]["earnDetails"] = {"earnCount": 1, "earns": [dict(EARN)]}
    return answer


# list kind: (answer, the list's path in it, its table, a change that keeps the key)
LISTS = {
    "badges of a list page": (
        lambda: example("get-customer-badges-1"),
        ("data", "badges"),
        "customer_badges",
        ("earnedCount", 99),
    ),
    "claims": (
        lambda: example("get-badge-meta-by-id-1"),
        ("data", "ownership", "claims"),
        "badge_claims",
        ("isActive", False),
    ),
    "owners": (
        lambda: example("get-badge-meta-by-id-1"),
        ("data", "ownership", "restrictedToOwners"),
        "badge_owners",
        None,  # a string: its key is all it says
    ),
    "badge-level constraints of a meta": (
        lambda: example("get-badge-meta-by-id-1"),
        ("data", "badgeConstraints"),
        "badge_constraints",
        ("maxEarnLimit", 987),
    ),
    "customer-level constraints of a meta": (
        lambda: example("update-badge-meta-1"),
        ("data", "customerConstraints"),
        "badge_constraints",
        ("maxEarnLimit", 987),
    ),
    "badge-level constraints of a detail": (
        lambda: example("get-customer-badge-detail-7"),
        ("data", "badgeConstraints"),
        "customer_badge_constraints",
        ("maxEarnLimit", 987),
    ),
    "customer-level constraints of a detail": (
        lambda: example("get-customer-badge-detail-7"),
        ("data", "customerConstraints"),
        "customer_badge_constraints",
        ("maxEarnLimit", 987),
    ),
    "issuals": (
        lambda: example("get-customer-badge-detail-7"),
        ("data", "issualDetails", "issuals"),
        "badge_issuals",
        ("issuedStatus", "ACTIVE"),
    ),
    "earns": (
        detail_with_an_earn,
        ("data", "earnDetails", "earns"),
        "badge_earns",
        ("earnStatus", "REVOKED"),
    ),
}
PATHS = {
    "badges of a list page": "customer_badges.data.badges[]",
    "claims": "badge_meta.data.ownership.claims[]",
    "owners": "badge_meta.data.ownership.restrictedToOwners[]",
    "badge-level constraints of a meta": "badge_meta.data.badgeConstraints[]",
    "customer-level constraints of a meta": "badge_meta.data.customerConstraints[]",
    "badge-level constraints of a detail": "customer_badge_detail.data.badgeConstraints[]",
    "customer-level constraints of a detail": "customer_badge_detail.data.customerConstraints[]",
    "issuals": "customer_badge_detail.data.issualDetails.issuals[]",
    "earns": "customer_badge_detail.data.earnDetails.earns[]",
}


def record_of(answer: dict[str, Any]) -> RawRecord:
    body = orjson.dumps(answer)
    data = answer["data"]
    if "badges" in data:
        return RawRecord(
            "customer_badges", "/x?page=0&limit=50", True, 200, body, "c1", "id", None, "EARNED", 0
        )
    endpoint = "customer_badge_detail" if "issualDetails" in data else "badge_meta"
    customer = ("c1", "mobile") if endpoint == "customer_badge_detail" else (None, None)
    return RawRecord(endpoint, "/x", True, 200, body, *customer, data["id"])


def at(value: Any, path: tuple) -> Any:
    for part in path:
        value = value[part]
    return value


def repeated(kind: str, conflicting: bool) -> tuple[dict, dict]:
    """(the answer, the same answer with its list's first entry repeated last)."""
    make, path, _, change = LISTS[kind]
    answer = make()
    mutated = copy.deepcopy(answer)
    entries = at(mutated, path)
    again = copy.deepcopy(entries[0])
    if conflicting:
        key, value = change
        again[key] = value
    entries.append(again)
    return answer, mutated


def normalized(answer: dict) -> tuple[dict, RecordNormalizer]:
    normalizer = RecordNormalizer(DAY)
    return normalizer.normalize(record_of(answer)), normalizer


def unique_key_checks(rows: dict[str, list[dict]]) -> dict[str, bool]:
    unique = {name: table for name, table in TABLES.items() if table.unique}
    with duckdb.connect() as con:
        for name, table in unique.items():
            con.register(name, rows_to_arrow(table, rows.get(name, [])))
        return {name: check_unique_key(con, table).passed for name, table in unique.items()}


@pytest.mark.parametrize("kind", LISTS)
def test_an_exact_repeat_is_one_row_counted_at_its_path(kind: str) -> None:
    answer, mutated = repeated(kind, conflicting=False)
    table = LISTS[kind][2]
    expected, _ = normalized(answer)

    rows, normalizer = normalized(mutated)

    assert rows[table] == expected[table]
    assert "extract_errors" not in rows
    report = normalizer.report
    assert report.repeats == {PATHS[kind]: 1}
    assert report.warnings[f"{table}: repeated entry"] == 1
    assert report.drift_samples[PATHS[kind]].startswith("{")
    assert all(unique_key_checks(rows).values())
    doubled = {**rows, table: rows[table] + rows[table][:1]}  # the check would have caught it
    assert not unique_key_checks(doubled)[table]


@pytest.mark.parametrize("kind", [kind for kind, (*_, change) in LISTS.items() if change])
def test_a_conflicting_repeat_keeps_the_first_as_the_row_and_the_other_in_extract_errors(
    kind: str,
) -> None:
    answer, mutated = repeated(kind, conflicting=True)
    table, (key, value) = LISTS[kind][2], LISTS[kind][3]
    expected, _ = normalized(answer)

    rows, normalizer = normalized(mutated)

    assert rows[table] == expected[table]
    (error,) = rows["extract_errors"]
    assert error["error_code"] == "repeated_key"
    assert error["endpoint"] == record_of(answer).endpoint
    assert error["customer_id"] == record_of(answer).customer_id
    path = PATHS[kind]
    assert error["message"].startswith(f"{path}: a second entry with the key {{")
    other = orjson.loads(error["message"].split(" (the first is the row): ", 1)[1])
    assert json_value_in(other, value), (other, key, value)
    assert normalizer.report.conflicts == {path: 1}
    assert normalizer.report.warnings[f"{table}: repeated key with other values"] == 1
    assert all(unique_key_checks(rows).values())


def json_value_in(values: dict, value: Any) -> bool:
    return value in values.values() or (isinstance(value, str) and value in str(values))


def test_every_table_with_a_unique_key_is_fed_by_a_list_tested_here() -> None:
    fed = {table for _, _, table, _ in LISTS.values()}
    from_answers = {"badges", "customer_badge_details"}  # one row per answer, deduplicated
    assert fed | from_answers | {"badge_custom_fields"} == {
        name for name, table in TABLES.items() if table.unique
    }


def test_one_badge_on_two_pages_of_a_list_is_one_row_or_a_named_conflict() -> None:
    entries = example("get-customer-badges-1")["data"]["badges"]
    normalizer = RecordNormalizer(DAY)

    def page(number: int, items: list) -> RawRecord:
        body = orjson.dumps({"data": {"badges": items}})
        return RawRecord(
            "customer_badges", "/x?page=0&limit=3", True, 200, body, "c1", "id", None, "EARNED",
            number,
        )  # fmt: skip

    first = normalizer.normalize(page(0, entries[:3]))
    again = normalizer.normalize(page(1, [entries[2], entries[3], entries[4]]))
    changed = {**entries[0], "earnedCount": 42}
    conflict = normalizer.normalize(page(2, [changed, entries[5], entries[6]]))

    assert len(first["customer_badges"]) == 3
    assert [row["badge_id"] for row in again["customer_badges"]] == [
        entries[3]["badgeMetaId"],
        entries[4]["badgeMetaId"],
    ]
    assert len(conflict["customer_badges"]) == 2
    (error,) = conflict["extract_errors"]
    assert error["error_code"] == "repeated_key" and error["list_type"] == "EARNED"
    assert '"earned_count":42' in error["message"]
    report = normalizer.report
    assert report.repeats == {"customer_badges.data.badges[]": 1}
    assert report.conflicts == {"customer_badges.data.badges[]": 1}
