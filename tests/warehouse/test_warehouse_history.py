import datetime as dt

import duckdb
import pytest

from pipelines.lake import Lake
from pipelines.warehouse.history import build_history, lake_snapshot_dates
from pipelines.warehouse.loader import load_snapshot, open_staging

D1, D2, D3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 4)
B1, B2, B3, B4 = ("b1" * 12, "b2" * 12, "b3" * 12, "b4" * 12)


def badge(badge_id: str, name: str) -> dict:
    return {"badge_id": badge_id, "name": name}


def issual(status: str) -> dict:
    return {"issue_id": "i1", "customer_id": "c1", "badge_id": B1, "issued_status": status}


FIXED = {"badge_id": B1, "constraint_level": "BADGE", "constraint_kind": "FIXED_VALUE"}

SNAPSHOTS = {
    D1: {
        "badges": [badge(B1, "One"), badge(B2, "Two"), badge(B3, "Three"), badge(B4, "Four")],
        "badge_constraints": [FIXED | {"max_earn_limit": 10}],
        "badge_issuals": [issual("ACTIVE")],
    },
    D2: {
        "badges": [badge(B1, "One"), badge(B2, "Two v2"), badge(B4, "Four")],
        "badge_constraints": [FIXED | {"max_earn_limit": 10}],
        "badge_issuals": [issual("REVOKED")],
    },
    D3: {
        "badges": [badge(B1, "One"), badge(B2, "Two v2"), badge(B3, "Three")],
        "badge_constraints": [FIXED | {"max_earn_limit": 20}],
    },
}


@pytest.fixture
def history(lake: Lake, write_snapshot):
    for day, rows in SNAPSHOTS.items():
        write_snapshot(day, rows)
    load_snapshot(lake, D3)
    con = open_staging(lake, D3)
    counts = build_history(con, lake, through=D3)
    yield con, counts
    con.close()


def test_badges_get_a_version_per_change_or_return(history) -> None:
    con, counts = history
    versions = con.execute(
        "SELECT badge_id, name, version_number, valid_from, valid_to, is_current "
        "FROM history.badges ORDER BY badge_id, valid_from"
    ).fetchall()
    assert versions == [
        (B1, "One", 1, D1, None, True),
        (B2, "Two", 1, D1, D2, False),
        (B2, "Two v2", 2, D2, None, True),
        (B3, "Three", 1, D1, D2, False),
        (B3, "Three", 2, D3, None, True),
        (B4, "Four", 1, D1, D3, False),
    ]
    assert counts["badges"] == 6


def test_constraints_with_null_window_keys_version_by_value(history) -> None:
    con, _ = history
    versions = con.execute(
        "SELECT max_earn_limit, valid_from, valid_to, is_current FROM history.badge_constraints "
        "ORDER BY valid_from"
    ).fetchall()
    assert versions == [(10, D1, D3, False), (20, D3, None, True)]


def test_issuals_are_kept_once_as_last_seen(history) -> None:
    con, counts = history
    kept = con.execute(
        "SELECT issue_id, issued_status, first_seen_snapshot, last_seen_snapshot "
        "FROM history.badge_issuals"
    ).fetchall()
    assert kept == [("i1", "REVOKED", D1, D2)]
    assert counts["badge_earns"] == 0
    assert counts["customer_badges"] == 0


def test_history_leaves_no_table_shadowing_main(history) -> None:
    con, _ = history
    assert con.execute("SELECT count(*) FROM main.badges").fetchone() == (3,)
    temp = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()
    assert temp == (0,)


def test_history_of_an_earlier_date_ignores_later_snapshots(lake: Lake, write_snapshot) -> None:
    for day, rows in SNAPSHOTS.items():
        write_snapshot(day, rows)
    assert lake_snapshot_dates(lake, "badges", D2) == [D1, D2]
    with duckdb.connect() as con:
        build_history(con, lake, through=D2)
        current = con.execute(
            "SELECT badge_id, name FROM history.badges WHERE is_current ORDER BY badge_id"
        ).fetchall()
    assert current == [(B1, "One"), (B2, "Two v2"), (B4, "Four")]
