import datetime as dt
import re

import duckdb
import pytest

from pipelines.lake import Lake
from pipelines.lake.tables import TABLES
from pipelines.warehouse.dbt_project import (
    PROJECT_DIR,
    build_models,
    model_docs,
    model_names,
    model_reads,
    model_sql,
)
from pipelines.warehouse.loader import load_snapshot, staging_path
from tests.warehouse.conftest import write_table

DAY = dt.date(2025, 3, 10)
TYPE_NAMES = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ"}
B1, B2, B3 = "b1" * 12, "b2" * 12, "b3" * 12
C1, C2, C3, C4 = ("c1", "id"), ("c2", "id"), ("c3", "email"), ("c4", "id")


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def customer(who: tuple[str, str]) -> dict:
    return {"customer_id": who[0], "identifier_type": who[1]}


def listed(who, badge_id, list_type, name):
    return customer(who) | {"badge_id": badge_id, "list_type": list_type, "badge_name": name}


def issual(issue_id, who, badge_id, issued_at, status):
    return customer(who) | {
        "issue_id": issue_id,
        "badge_id": badge_id,
        "issued_at": issued_at,
        "issued_status": status,
    }


def earn(earn_id, who, badge_id, earned_at, status, expires_at, owner, reference):
    return customer(who) | {
        "earn_id": earn_id,
        "badge_id": badge_id,
        "earned_at": earned_at,
        "earn_status": status,
        "earn_expires_at": expires_at,
        "owner_type": owner,
        "owner_reference_id": reference,
    }


def limit(who, badge_id, level, kind, unit, length, maximum, current):
    return customer(who) | {
        "badge_id": badge_id,
        "constraint_level": level,
        "constraint_kind": kind,
        "window_unit": unit,
        "window_length": length,
        "max_earn_limit": maximum,
        "current_earn_count": current,
    }


def badge_limit(badge_id, level, kind, unit, length, maximum):
    row = limit(("x", "id"), badge_id, level, kind, unit, length, maximum, None)
    for column in ("customer_id", "identifier_type", "current_earn_count"):
        del row[column]
    return row


SNAPSHOT = {
    "badges": [
        {"badge_id": B1, "name": "Steps", "earn_type": "EARN", "status": "LIVE"},
        {"badge_id": B2, "name": "Streak", "earn_type": "ISSUE_EARN", "status": "LIVE"},
    ],
    "extract_errors": [{"endpoint": "badge_meta", "badge_id": B3, "http_status": 404}],
    "customer_badges": [
        listed(C1, B2, "AVAILABLE_TO_ISSUE", "Streak"),
        listed(C2, B2, "AVAILABLE", "Streak"),
        listed(C3, B2, "AVAILABLE", "Streak"),
        listed(C1, B1, "EARNED", "Steps"),
        listed(C2, B3, "AVAILABLE", "Ghost"),
        listed(C3, B1, "AVAILABLE", "Steps"),
    ],
    "customer_badge_details": [customer(C4) | {"badge_id": B1, "badge_name": "Steps"}],
    "badge_issuals": [
        issual("i1", C1, B2, utc(2025, 3, 1), "ACTIVE"),
        issual("i2", C2, B2, utc(2025, 3, 2), "REVOKED"),
        issual("i3", C3, B2, utc(2025, 3, 3, 12), "ACTIVE"),
        issual("i4", C1, B2, utc(2025, 3, 5), "ACTIVE"),
    ],
    "badge_earns": [
        earn("e1", C1, B1, utc(2025, 3, 8, 23, 30), "ACTIVE", utc(2025, 3, 20), "Loyalty", "P1"),
        earn("e2", C1, B1, utc(2025, 3, 9, 0, 30), "EXPIRED", utc(2025, 3, 9, 12), "Loyalty", "P1"),
        earn("e3", C2, B1, utc(2025, 3, 9, 5), "ACTIVE", utc(2025, 4, 9), "Milestones", "M7"),
        earn("e4", C1, B2, utc(2025, 3, 1, 10), "ACTIVE", utc(2025, 3, 10), "Loyalty", "P1"),
        earn("e5", C3, B2, utc(2025, 3, 4), "ACTIVE", None, None, None),
        earn("e6", C3, B2, utc(2025, 3, 2), "REVOKED", utc(2025, 3, 15), None, None),
        earn("e7", C1, B1, utc(2025, 3, 9, 20), "ACTIVE", utc(2025, 3, 9, 23), "Loyalty", "P2"),
        earn("e8", C2, B3, utc(2025, 2, 1), "EXPIRED", utc(2025, 2, 15), "Milestones", "M7"),
    ],
    "badge_constraints": [
        badge_limit(B1, "BADGE", "FIXED_VALUE", None, None, 100),
        badge_limit(B1, "BADGE", "ROLLING_WINDOW", "DAYS", 7, 10),
        badge_limit(B1, "CUSTOMER", "FIXED_VALUE", None, None, 5),
        badge_limit(B2, "BADGE", "NO_LIMIT", None, None, None),
        badge_limit(B2, "BADGE", "FIXED_WINDOW", "WEEKS", 1, 0),
    ],
    "customer_badge_constraints": [
        limit(C1, B1, "BADGE", "FIXED_VALUE", None, None, 100, 40),
        limit(C2, B1, "BADGE", "FIXED_VALUE", None, None, 100, 42),
        limit(C1, B1, "BADGE", "ROLLING_WINDOW", "DAYS", 7, 10, None),
        limit(C1, B2, "BADGE", "FIXED_WINDOW", "WEEKS", 1, 0, 3),
        limit(C1, B1, "CUSTOMER", "FIXED_VALUE", None, None, 5, 4),
        limit(C1, B1, "CUSTOMER", "ROLLING_WINDOW", "DAYS", 1, 1, 1),
        limit(C2, B1, "CUSTOMER", "FIXED_VALUE", None, None, 5, 3),
        limit(C3, B2, "CUSTOMER", "ROLLING_WINDOW", "MONTHS", 1, 3, 2),
        limit(C3, B2, "CUSTOMER", "FIXED_WINDOW", "WEEKS", 1, 2, 1),
        limit(C2, B2, "CUSTOMER", "FIXED_VALUE", None, None, 3, None),
    ],
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """The snapshot loaded and every model built and tested by dbt, once for the module."""
    lake = Lake(tmp_path_factory.mktemp("models") / "data")
    for name in TABLES:
        write_table(lake, name, DAY, SNAPSHOT.get(name, []))
    load_snapshot(lake, DAY)
    # A session zone other than UTC proves the models' day boundaries do not depend on it.
    build_models(staging_path(lake, DAY), DAY, BADGES_DBT_TIMEZONE="Asia/Kolkata")
    con = duckdb.connect(str(staging_path(lake, DAY)), read_only=True)
    yield con
    con.close()


def rows(con: duckdb.DuckDBPyConnection, model: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM analytics.{model}").fetchall()


def test_badge_catalog(warehouse) -> None:
    assert rows(warehouse, "badge_catalog") == [
        (B1, "Steps", True, "EARN", "LIVE"),
        (B2, "Streak", True, "ISSUE_EARN", "LIVE"),
        (B3, "Ghost", False, None, None),
    ]


def test_earns_daily_counts_per_utc_day(warehouse) -> None:
    assert rows(warehouse, "earns_daily") == [
        (dt.date(2025, 2, 1), B3, "Ghost", 1, 1),
        (dt.date(2025, 3, 1), B2, "Streak", 1, 1),
        (dt.date(2025, 3, 2), B2, "Streak", 1, 1),
        (dt.date(2025, 3, 4), B2, "Streak", 1, 1),
        (dt.date(2025, 3, 8), B1, "Steps", 1, 1),
        (dt.date(2025, 3, 9), B1, "Steps", 3, 2),
    ]


def test_badge_funnel(warehouse) -> None:
    # Steps was earned by C1 and C2 but is available only to C3: it reached all three.
    assert rows(warehouse, "badge_funnel") == [
        (B1, "Steps", 3, 1, 0, 2, 0, 0, None),
        (B2, "Streak", 3, 3, 3, 2, 2, 1, pytest.approx(2 / 3)),
        (B3, "Ghost", 1, 1, 0, 1, 0, 0, None),
    ]
    stages = warehouse.execute(
        "SELECT customers_reached, customers_available, customers_issued, customers_earned, "
        "customers_issued_and_earned FROM analytics.badge_funnel"
    ).fetchall()
    for reached, available, issued, earned, both in stages:
        assert reached >= max(available, issued, earned) and both <= min(issued, earned)


def test_constraint_utilization(warehouse) -> None:
    assert rows(warehouse, "constraint_utilization") == [
        (B1, "Steps", "FIXED_VALUE", None, None, 100, 42, 2, pytest.approx(0.42)),
        (B1, "Steps", "ROLLING_WINDOW", "DAYS", 7, 10, None, 0, None),
        (B2, "Streak", "FIXED_WINDOW", "WEEKS", 1, 0, 3, 1, None),
        (B2, "Streak", "NO_LIMIT", None, None, None, None, 0, None),
    ]


def test_time_to_earn(warehouse) -> None:
    # c1: 10 h (i1 -> e4); c2: never earned; c3: 12 h (i3 -> e5; e6 came before the issual).
    assert rows(warehouse, "time_to_earn") == [
        (B2, "Streak", 3, 2, pytest.approx(11.0), pytest.approx(11.8)),
    ]


def test_customer_badge_summary(warehouse) -> None:
    assert rows(warehouse, "customer_badge_summary") == [
        ("c1", "id", 2, 2, 0, utc(2025, 3, 9, 20)),
        ("c2", "id", 2, 1, 1, utc(2025, 3, 9, 5)),
        ("c3", "email", 1, 1, 0, utc(2025, 3, 4)),
        ("c4", "id", 0, 0, 0, None),
    ]


def test_expiring_badges_window_is_30_days_from_the_snapshot(warehouse) -> None:
    # e3 expires exactly at the window's end (excluded), e7 before its start (excluded).
    assert rows(warehouse, "expiring_badges") == [
        (DAY, "c1", "id", B2, "Streak", "e4", utc(2025, 3, 1, 10), utc(2025, 3, 10), 0),
        (DAY, "c1", "id", B1, "Steps", "e1", utc(2025, 3, 8, 23, 30), utc(2025, 3, 20), 10),
    ]


def test_earns_by_owner(warehouse) -> None:
    assert rows(warehouse, "earns_by_owner") == [
        ("Loyalty", "P1", 3, 2, 1, 2, utc(2025, 3, 1, 10), utc(2025, 3, 9, 0, 30)),
        ("Loyalty", "P2", 1, 1, 1, 1, utc(2025, 3, 9, 20), utc(2025, 3, 9, 20)),
        ("Milestones", "M7", 2, 1, 1, 2, utc(2025, 2, 1), utc(2025, 3, 9, 5)),
        (None, None, 2, 1, 1, 1, utc(2025, 3, 2), utc(2025, 3, 4)),
    ]


def test_constraint_pressure_picks_the_tightest_customer_limit(warehouse) -> None:
    assert rows(warehouse, "constraint_pressure") == [
        (B1, "Steps", "c1", "id", "ROLLING_WINDOW", "DAYS", 1, 1, 1, 0, True),
        (B2, "Streak", "c3", "email", "FIXED_WINDOW", "WEEKS", 1, 2, 1, 1, False),
    ]


def test_dependencies_are_the_refs_and_sources_of_the_sql() -> None:
    assert model_reads("earns_daily") == {"main.badge_earns", "analytics.badge_catalog"}
    assert model_reads("badge_catalog") == {
        "main.badges",
        "main.customer_badges",
        "main.customer_badge_details",
        "main.badge_issuals",
        "main.badge_earns",
    }


def test_every_model_file_is_described_keyed_and_free_of_wall_clock() -> None:
    assert model_names() == sorted(p.stem for p in PROJECT_DIR.glob("*.sql"))
    for name in model_names():
        doc = model_docs()[name]
        assert doc.description and doc.grain and doc.key and doc.columns, name
        assert set(doc.key) <= set(doc.columns), name
        code = model_sql(name).lower()
        assert not re.search(r"\b(now\(|current_date|current_timestamp|today\()", code), name
        assert not re.search(r"\b(main|analytics)\.", code), f"{name}: use source()/ref()"


def test_every_model_column_is_typed_as_built(warehouse) -> None:
    for name, doc in model_docs().items():
        built = warehouse.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'analytics' AND table_name = ? ORDER BY ordinal_position",
            [name],
        ).fetchall()
        declared = [(column, type_) for column, (type_, _) in doc.columns.items()]
        assert [(c, TYPE_NAMES.get(t, t)) for c, t in built] == declared, name


def test_unknown_model_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no model 'nope'"):
        model_sql("nope")
