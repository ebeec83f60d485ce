import datetime as dt

import duckdb
import pytest

from pipelines.lake import Lake
from pipelines.lake.tables import TABLES
from pipelines.warehouse.checks import (
    check_list_totals,
    check_listed_badges_have_meta,
    check_snapshot_date,
    check_unique_key,
    check_unique_keys,
    run_all_checks,
)
from pipelines.warehouse.loader import load_snapshot

DAY = dt.date(2025, 3, 10)
KNOWN, UNKNOWN = "a" * 24, "f" * 24


def listed(customer_id: str, badge_id: str, list_type: str) -> dict:
    return {
        "customer_id": customer_id,
        "identifier_type": "id",
        "badge_id": badge_id,
        "list_type": list_type,
    }


GOOD = {
    "badges": [{"badge_id": KNOWN, "name": "Known"}],
    "extract_errors": [
        {"endpoint": "badge_meta", "badge_id": UNKNOWN, "http_status": 404, "error_code": "404"}
    ],
    "customer_badges": [
        listed("c1", KNOWN, "EARNED"),
        listed("c1", UNKNOWN, "EARNED"),
        listed("c2", KNOWN, "AVAILABLE"),
    ],
}


@pytest.fixture
def load(lake: Lake, write_snapshot):
    connections = []

    def loaded(rows: dict) -> duckdb.DuckDBPyConnection:
        write_snapshot(DAY, rows)
        con = duckdb.connect(str(load_snapshot(lake, DAY).staging_path), read_only=True)
        connections.append(con)
        return con

    yield loaded
    for con in connections:
        con.close()


def test_unique_keys_pass_on_clean_data(load) -> None:
    outcomes = check_unique_keys(load(GOOD))
    unique = [name for name in TABLES if name != "extract_errors"]
    assert [o.name for o in outcomes] == [f"unique_key_{name}" for name in unique]
    assert all(o.passed for o in outcomes)


def test_problems_naming_one_call_and_constraints_of_unknown_kind_do_not_trip(load) -> None:
    item = {"endpoint": "customer_badges", "customer_id": "c1", "list_type": "EARNED"}
    unknown = {"badge_id": KNOWN, "constraint_level": "BADGE", "raw_constraint_type": "LUNAR"}
    con = load(
        GOOD
        | {
            "extract_errors": [item | {"message": "data.badges[1]"}, item, item],
            "badge_constraints": [unknown, unknown | {"raw_constraint_type": "SOLAR"}],
        }
    )
    outcomes = check_unique_keys(con)
    assert all(o.passed for o in outcomes), [o for o in outcomes if not o.passed]


def test_unique_key_fails_on_a_duplicated_key(load) -> None:
    con = load(
        GOOD | {"customer_badges": [*GOOD["customer_badges"], listed("c2", KNOWN, "AVAILABLE")]}
    )
    outcome = check_unique_key(con, TABLES["customer_badges"])
    assert outcome.passed is False
    assert outcome.metadata["duplicated_keys"] == 1
    assert outcome.metadata["sample"] == [
        {
            "customer_id": "c2",
            "identifier_type": "id",
            "badge_id": KNOWN,
            "list_type": "AVAILABLE",
            "rows": 2,
        }
    ]


def test_unique_key_treats_null_key_parts_as_equal(load) -> None:
    fixed = {"badge_id": KNOWN, "constraint_level": "BADGE", "constraint_kind": "FIXED_VALUE"}
    con = load(GOOD | {"badge_constraints": [fixed, fixed]})
    assert check_unique_key(con, TABLES["badge_constraints"]).passed is False


def test_listed_badges_have_meta_or_an_error(load) -> None:
    outcome = check_listed_badges_have_meta(load(GOOD))
    assert outcome.passed is True
    assert outcome.metadata == {"orphan_badges": 0, "sample": []}


def test_listed_badge_without_meta_or_error_fails(load) -> None:
    detail_error = {"endpoint": "customer_badge_detail", "badge_id": UNKNOWN, "customer_id": "c1"}
    outcome = check_listed_badges_have_meta(load(GOOD | {"extract_errors": [detail_error]}))
    assert outcome.passed is False
    assert outcome.metadata == {"orphan_badges": 1, "sample": [UNKNOWN]}


def test_list_totals_match_pagination(load) -> None:
    totals = {("c1", "id", "EARNED"): 2, ("c2", "id", "AVAILABLE"): 1, ("c3", "id", "EXPIRED"): 0}
    outcome = check_list_totals(load(GOOD), totals)
    assert outcome.passed is True
    assert outcome.metadata["lists_checked"] == 3


def test_list_totals_report_each_mismatch(load) -> None:
    totals = {("c1", "id", "EARNED"): 3, ("c2", "id", "AVAILABLE"): 1, ("c3", "id", "EARNED"): 4}
    outcome = check_list_totals(load(GOOD), totals)
    assert outcome.passed is False
    assert outcome.metadata["mismatched_lists"] == 2
    assert outcome.metadata["sample"] == [
        {
            "customer_id": "c1",
            "identifier_type": "id",
            "list_type": "EARNED",
            "expected": 3,
            "loaded": 2,
        },
        {
            "customer_id": "c3",
            "identifier_type": "id",
            "list_type": "EARNED",
            "expected": 4,
            "loaded": 0,
        },
    ]


def test_snapshot_date_check(load) -> None:
    con = load(GOOD)
    assert check_snapshot_date(con, DAY).passed is True
    failed = check_snapshot_date(con, DAY - dt.timedelta(days=1))
    assert failed.passed is False
    assert failed.metadata == {"expected": "2025-03-09", "found": ["2025-03-10"]}


def test_run_all_checks_includes_totals_only_when_given(load) -> None:
    con = load(GOOD)
    names = [o.name for o in run_all_checks(con, DAY)]
    assert "list_totals_match_pagination" not in names
    assert names[0] == "snapshot_date"
    with_totals = run_all_checks(con, DAY, {("c1", "id", "EARNED"): 2})
    assert with_totals[-1].name == "list_totals_match_pagination"
    assert all(o.passed for o in with_totals)


def test_a_repeated_key_names_its_rows_and_the_answer_they_came_from(load) -> None:
    con = load(
        GOOD | {"customer_badges": [*GOOD["customer_badges"], listed("c2", KNOWN, "AVAILABLE")]}
    )
    outcome = check_unique_key(con, TABLES["customer_badges"])
    assert outcome.description == (
        "main.customer_badges has one row per (customer_id, identifier_type, badge_id, "
        "list_type), but 1 key(s) repeat (a bug of the normalizer, which resolves the vendor's "
        f"repeats before the load): customer_id=c2, identifier_type=id, badge_id={KNOWN}, "
        "list_type=AVAILABLE from the customer_badges answer of customer_id c2, "
        "identifier_type id, list_type AVAILABLE"
    )
