import datetime as dt
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.extract.incremental import (
    DetailPlan,
    PreviousSnapshot,
    entries_digest,
    fingerprint,
    meta_stamp,
    seal_detail_state,
)
from pipelines.extract.rotation import rotate
from pipelines.lake import Lake
from pipelines.lake.checkpoint import Checkpoint, CheckpointWriter
from pipelines.lake.keys import CustomerRef
from pipelines.lake.nightrecord import FINGERPRINTS_FILE, not_fetched_tonight

ENTRY = {"badgeMetaId": "b1", "earnedCount": 2, "name": "Runner"}
META = meta_stamp({"lastUpdatedOn": 1713841339.861, "issuedCount": 3, "earnedCount": 9})


def test_fingerprint_follows_the_entries_and_the_badge_definition_not_the_list_order():
    base = fingerprint(entries_digest([("EARNED", ENTRY), ("AVAILABLE", ENTRY)]), META)
    assert base == fingerprint(entries_digest([("AVAILABLE", ENTRY), ("EARNED", ENTRY)]), META)
    changed_entry = [("EARNED", {**ENTRY, "earnedCount": 3}), ("AVAILABLE", ENTRY)]
    assert base != fingerprint(entries_digest(changed_entry), META)
    assert base != fingerprint(entries_digest([("EARNED", ENTRY)]), META)  # left a list
    redefined = meta_stamp({"lastUpdatedOn": 1713841400.0, "issuedCount": 3, "earnedCount": 9})
    assert base != fingerprint(entries_digest([("EARNED", ENTRY), ("AVAILABLE", ENTRY)]), redefined)


def test_activity_elsewhere_on_the_badge_leaves_the_fingerprint_alone():
    entries = entries_digest([("EARNED", ENTRY), ("AVAILABLE", ENTRY)])
    busier = meta_stamp({"lastUpdatedOn": 1713841339.861, "issuedCount": 4, "earnedCount": 12})
    assert fingerprint(entries, busier) == fingerprint(entries, META)


CUSTOMERS = [CustomerRef(str(1000 + i)) for i in range(70)]
START = dt.date(2026, 3, 2)


def night_of(lake: Lake, day: dt.date, previous, refresh_days, print_of, full_refresh=False):
    """One night's decisions, recorded and sealed as a run does; returns customers fetched."""
    plan = DetailPlan(day, lake, previous, refresh_days=refresh_days, full_refresh=full_refresh)
    archive = lake.raw_dir(day)
    writer = CheckpointWriter(archive)
    fetched = []
    for customer in CUSTOMERS:
        key = (customer.customer_id, "id", "b1")
        print_ = print_of(customer)
        if plan.reusable(key, print_):
            writer.add_decision((*key, print_, plan.known(key)[1], True))
        else:
            writer.add_decision((*key, print_, day, False))
            fetched.append(customer.customer_id)
    writer.flush()
    carried = not_fetched_tonight(rotate(day, 1, CUSTOMERS, [], {}).write(archive))
    seal_detail_state(archive, Checkpoint(archive).decision_files(), previous, carried)
    return fetched, PreviousSnapshot(day, archive)


def simulate(tmp_path: Path, nights: int, refresh_days: int, change_on=None):
    """Runs `nights` plans over unchanged pairs; returns per night the customers fetched."""
    lake = Lake(tmp_path)
    previous = None
    fetched_by_night = []
    for night in range(nights):
        day = START + dt.timedelta(days=night)

        def print_of(customer, night=night):
            return "changed" if (change_on or {}).get(night) == customer.customer_id else "same"

        fetched, previous = night_of(lake, day, previous, refresh_days, print_of)
        fetched_by_night.append(fetched)
    return fetched_by_night


def test_refreshes_are_spread_over_the_nights_and_no_detail_gets_older_than_n_days(tmp_path):
    nights = simulate(tmp_path, nights=15, refresh_days=7)
    assert len(nights[0]) == len(CUSTOMERS)  # first night: nothing to reuse
    later = [len(fetched) for fetched in nights[1:]]
    assert sum(later[:7]) == len(CUSTOMERS)  # each pair exactly once per 7 nights
    assert max(later) <= 2 * len(CUSTOMERS) // 7  # spread, not all on one night
    last_fetch: dict[str, int] = {c.customer_id: 0 for c in CUSTOMERS}
    for night, fetched in enumerate(nights[1:], start=1):
        for customer_id in fetched:
            assert night - last_fetch[customer_id] <= 7
            last_fetch[customer_id] = night
    assert Counter(len(f) for f in nights[8:15]) == Counter(later[:7])  # same cycle again


def test_a_changed_pair_is_fetched_on_the_night_it_changed(tmp_path):
    nights = simulate(tmp_path, nights=3, refresh_days=1000, change_on={2: "1005"})
    assert nights[1] == [] and nights[2] == ["1005"]


def test_the_sealed_state_keeps_each_pair_with_the_night_it_was_really_fetched(tmp_path):
    simulate(tmp_path, nights=3, refresh_days=1000, change_on={2: "1005"})
    state = pq.read_table(Lake(tmp_path).raw_dir(START + dt.timedelta(days=2)) / FINGERPRINTS_FILE)
    fetched_on = dict(
        zip(state["customer_id"].to_pylist(), state["fetched_on"].to_pylist(), strict=True)
    )
    assert len(fetched_on) == len(CUSTOMERS)
    assert fetched_on["1005"] == START + dt.timedelta(days=2)
    assert fetched_on["1006"] == START  # reused on nights 1 and 2


def test_a_pair_whose_archive_is_gone_is_fetched_again(tmp_path):
    lake = Lake(tmp_path)
    _, previous = night_of(lake, START, None, 1000, lambda c: "same")
    next_day = START + dt.timedelta(days=1)
    plan = DetailPlan(next_day, lake, previous, refresh_days=1000)
    assert plan.reusable(("1000", "id", "b1"), "same")
    lake.raw_dir(START).rename(tmp_path / "moved-away")
    moved = PreviousSnapshot(START, tmp_path / "moved-away")
    assert not DetailPlan(next_day, lake, moved, refresh_days=1000).reusable(
        ("1000", "id", "b1"), "same"
    )


def test_full_refresh_reuses_nothing(tmp_path):
    lake = Lake(tmp_path)
    _, previous = night_of(lake, START, None, 7, lambda c: "same")
    plan = DetailPlan(START + dt.timedelta(days=1), lake, previous, full_refresh=True)
    assert not any(plan.reusable((c.customer_id, "id", "b1"), "same") for c in CUSTOMERS)


def due_pairs(plan: DetailPlan) -> list[str]:
    return [c.customer_id for c in CUSTOMERS if plan.due((c.customer_id, "id", "b1"))]


def test_active_customers_pairs_are_due_and_each_badge_gets_one_detail_a_night(tmp_path):
    lake = Lake(tmp_path)
    _, previous = night_of(lake, START, None, 1000, lambda c: "same")
    plan = DetailPlan(START + dt.timedelta(days=1), lake, previous, refresh_days=1000)
    everyone = {c.key for c in CUSTOMERS}
    assert due_pairs(plan) == []

    plan.plan_tonight(everyone, set())
    assert due_pairs(plan) == ["1000"]  # stands for b1: no other pair of it is fetched

    plan.plan_tonight(everyone, {("1042", "id")})
    assert due_pairs(plan) == ["1042"]  # the active customer's detail is fresh for b1

    plan.plan_tonight(everyone - {("1000", "id")}, set())
    assert due_pairs(plan) == ["1001"]  # only tonight's customers stand for a badge
