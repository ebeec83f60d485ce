"""Each night applies only its own snapshot to the published history, and the result equals
a full rebuild from every snapshot in the lake."""

from __future__ import annotations

import datetime as dt
import random

import duckdb

from pipelines.lake import Lake
from pipelines.warehouse.history import (
    EVENT_TABLES,
    HISTORY_SCHEMA,
    VERSIONED_TABLES,
    build_history,
    can_apply_incrementally,
    rebuild_history,
)
from pipelines.warehouse.loader import load_snapshot, open_staging
from pipelines.warehouse.publish import publish

START = dt.date(2025, 5, 1)
BADGES = [f"{n:02d}" * 12 for n in range(8)]
CUSTOMERS = [f"c{n}" for n in range(12)]
STORED = [
    *(f"{t}_{part}" for t in [*VERSIONED_TABLES, *EVENT_TABLES] for part in ("latest", "earlier")),
    "applied_snapshots",
]


def night_rows(rng: random.Random, night: int, state: dict) -> dict[str, list[dict]]:
    """Mutates the simulated org a little and returns its snapshot's rows."""
    day = START + dt.timedelta(days=night)
    for badge_id in rng.sample(BADGES, 2):  # renames, and badges leaving or coming back
        state["names"][badge_id] = f"badge {badge_id[:2]} v{night}"
    state["gone"] = set(rng.sample(BADGES, 1)) if night % 3 == 1 else set()
    for customer in rng.sample(CUSTOMERS, 3):
        state["earned"][customer] = state["earned"].get(customer, 0) + 1
    live = [b for b in BADGES if b not in state["gone"]]
    customer_badges = [
        {
            "customer_id": customer,
            "identifier_type": "id",
            "badge_id": badge_id,
            "list_type": "EARNED",
            "earned_count": state["earned"].get(customer, 0),
            # a rotation keeps fetched_on of carried customers: no new version for it
            "fetched_on": day - dt.timedelta(days=rng.randrange(3)),
        }
        for customer in CUSTOMERS
        for badge_id in live[: 2 + CUSTOMERS.index(customer) % 4]
    ]
    earns = [
        {
            "earn_id": f"e-{customer}-{n}",
            "customer_id": customer,
            "badge_id": BADGES[0],
            "earn_status": "REVOKED" if (n + night) % 5 == 0 else "ACTIVE",
            "fetched_on": day,
        }
        for customer, count in state["earned"].items()
        for n in range(count)
        if not (night % 2 and customer == CUSTOMERS[night % 4])  # missing for a night
    ]
    return {
        "badges": [{"badge_id": b, "name": state["names"].get(b, b)} for b in live],
        "badge_constraints": [
            {
                "badge_id": b,
                "constraint_level": "BADGE",
                "constraint_kind": "FIXED_VALUE",
                "max_earn_limit": 10 + (night // 4 if b == BADGES[1] else 0),
            }
            for b in live
        ],
        "customer_badges": customer_badges,
        "badge_earns": earns,
    }


def rows_of(database, name: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return sorted(con.execute(f"SELECT * FROM {HISTORY_SCHEMA}.{name}").fetchall(), key=repr)


def test_ten_incremental_nights_equal_a_full_rebuild_from_the_lake(
    lake: Lake, write_snapshot, tmp_path
):
    rng = random.Random(5)
    state: dict = {"names": {}, "earned": {}}
    modes = []
    for night in range(10):
        day = START + dt.timedelta(days=night)
        write_snapshot(day, night_rows(rng, night, state))
        load_snapshot(lake, day)
        with open_staging(lake, day) as con:
            modes.append(can_apply_incrementally(con, lake, day))
            build_history(con, lake, day)
        publish(lake, day)

    assert modes == [False] + [True] * 9  # the first night builds, the others apply
    rebuilt = tmp_path / "rebuilt.duckdb"
    with duckdb.connect(str(rebuilt)) as con:
        rebuild_history(con, lake, START + dt.timedelta(days=9))
    for name in [*STORED, *VERSIONED_TABLES, *EVENT_TABLES]:
        incremental = rows_of(lake.warehouse_path, name)
        assert incremental == rows_of(rebuilt, name), name
    versions = rows_of(lake.warehouse_path, "badges")
    assert len(versions) > len(BADGES)  # renames and returns did make versions
    closed = rows_of(lake.warehouse_path, "customer_badges_earlier")
    assert closed, "earned counts changed, so earlier versions exist"
    assert rows_of(lake.warehouse_path, "badge_earns_earlier"), "some earns left the snapshot"


def test_history_is_rebuilt_when_applying_would_skip_or_repeat_a_snapshot(
    lake: Lake, write_snapshot
):
    rng = random.Random(9)
    state: dict = {"names": {}, "earned": {}}
    days = [START + dt.timedelta(days=n) for n in range(4)]
    for night, day in enumerate(days[:2]):
        write_snapshot(day, night_rows(rng, night, state))
        load_snapshot(lake, day)
        with open_staging(lake, day) as con:
            build_history(con, lake, day)
        publish(lake, day)
    write_snapshot(days[2], night_rows(rng, 2, state))  # in the lake, never applied
    with duckdb.connect(str(lake.warehouse_path), read_only=True) as con:
        assert not can_apply_incrementally(con, lake, days[1])  # a rerun of the last night
        assert not can_apply_incrementally(con, lake, days[3])  # would skip days[2]
        assert can_apply_incrementally(con, lake, days[2])


def columns_of(database, name: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [HISTORY_SCHEMA, name],
        ).fetchall()


def test_a_single_snapshot_history_is_what_the_windows_over_several_would_give(
    lake: Lake, write_snapshot, tmp_path
):
    rng = random.Random(3)
    state: dict = {"names": {}, "earned": {}}
    day = START
    rows = night_rows(rng, 0, state)
    write_snapshot(day, rows)
    single = tmp_path / "single.duckdb"
    with duckdb.connect(str(single)) as con:
        rebuild_history(con, lake, day)
    write_snapshot(day + dt.timedelta(days=1), night_rows(rng, 1, state))
    windowed = tmp_path / "windowed.duckdb"
    with duckdb.connect(str(windowed)) as con:
        rebuild_history(con, lake, day + dt.timedelta(days=1))

    for name in STORED[:-1]:
        assert columns_of(single, name) == columns_of(windowed, name), name
    for name in VERSIONED_TABLES:
        assert rows_of(single, f"{name}_earlier") == []
        latest = rows_of(single, f"{name}_latest")
        assert len(latest) == len(rows[name]) > 0
        assert {row[-4:] for row in latest} == {(1, day, None, True)}
    earns = rows_of(single, "badge_earns_latest")
    assert len(earns) == len(rows["badge_earns"]) > 0
    assert {row[-2:] for row in earns} == {(day, day)}
    assert rows_of(single, "badge_earns_earlier") == []
    # The windowed rebuild's versions of the first snapshot's keys start where these do.
    first = {row[:-4] for row in rows_of(single, "badges_latest")}
    with duckdb.connect(str(windowed), read_only=True) as con:
        started = con.execute(
            f"SELECT * EXCLUDE (version_number, valid_from, valid_to, is_current) "
            f"FROM {HISTORY_SCHEMA}.badges WHERE valid_from = ?",
            [day],
        ).fetchall()
    assert {tuple(row) for row in started} == first
