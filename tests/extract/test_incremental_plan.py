import datetime as dt
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.extract.incremental import (
    DetailPlan,
    PreviousSnapshot,
    entries_digest,
    fingerprint,
    known_details,
    meta_stamp,
    refresh_slot,
    seal_detail_state,
)
from pipelines.extract.rotation import rotate
from pipelines.lake import Lake
from pipelines.lake.checkpoint import Checkpoint, CheckpointWriter
from pipelines.lake.keys import CustomerRef
from pipelines.lake.nightrecord import FINGERPRINTS_FILE, not_fetched_tonight

ENTRY = {"badgeMetaId": "b1", "earnedCount": 2, "name": "Runner", "description": "Run 5 km"}
DEFINITION = {
    "lastUpdatedOn": 1713841339.861,
    "description": "Run 5 km",
    "earnedBadgeExpiry": {"expiryType": "NEVER"},
    "issuedCount": 3,
    "earnedCount": 9,
}
META = meta_stamp(DEFINITION)


def test_fingerprint_follows_the_entries_and_the_badge_definition_not_the_list_order():
    base = fingerprint(entries_digest([("EARNED", ENTRY), ("AVAILABLE", ENTRY)]), META)
    assert base == fingerprint(entries_digest([("AVAILABLE", ENTRY), ("EARNED", ENTRY)]), META)
    changed_entry = [("EARNED", {**ENTRY, "earnedCount": 3}), ("AVAILABLE", ENTRY)]
    assert base != fingerprint(entries_digest(changed_entry), META)
    assert base != fingerprint(entries_digest([("EARNED", ENTRY)]), META)  # left a list
    redefined = meta_stamp(
        {**DEFINITION, "lastUpdatedOn": 1713841400.0, "earnedBadgeExpiry": {"expiryType": "X"}}
    )
    assert base != fingerprint(entries_digest([("EARNED", ENTRY), ("AVAILABLE", ENTRY)]), redefined)


def test_activity_elsewhere_on_the_badge_leaves_the_fingerprint_alone():
    entries = entries_digest([("EARNED", ENTRY), ("AVAILABLE", ENTRY)])
    busier = meta_stamp({**DEFINITION, "issuedCount": 4, "earnedCount": 12})
    assert fingerprint(entries, busier) == fingerprint(entries, META)


def test_a_new_description_of_the_badge_leaves_its_pairs_fingerprints_alone():
    """Name, description and the like are the badge's: the normalizer takes them from
    tonight's detail of the badge, so a described-only change refetches none of its pairs."""
    base = fingerprint(entries_digest([("EARNED", ENTRY)]), META)
    renamed = {**ENTRY, "name": "Sprinter", "description": "Run 10 km"}
    described = meta_stamp(
        {**DEFINITION, "lastUpdatedOn": 1713841400.0, "description": "Run 10 km"}
    )
    assert fingerprint(entries_digest([("EARNED", renamed)]), described) == base


CUSTOMERS = [CustomerRef(str(1000 + i)) for i in range(70)]
START = dt.date(2026, 3, 2)


def detail_plan(day: dt.date, lake: Lake, previous, **options) -> DetailPlan:
    """The plan a night makes: the last snapshot's fingerprints, the archives there are."""
    return DetailPlan(day, known_details(previous), lake.raw_dates(), **options)


def night_of(lake: Lake, day: dt.date, previous, refresh_days, print_of, full_refresh=False):
    """One night's decisions, recorded and sealed as a run does; returns customers fetched."""
    plan = detail_plan(day, lake, previous, refresh_days=refresh_days, full_refresh=full_refresh)
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
    """Runs `nights` plans over unchanged pairs but for `change_on` (night -> the customer
    whose pair changes then, for good); returns per night the customers fetched."""
    lake = Lake(tmp_path)
    previous = None
    fetched_by_night = []
    for night in range(nights):
        day = START + dt.timedelta(days=night)

        def print_of(customer, night=night):
            changes = [n for n, cid in (change_on or {}).items() if cid == customer.customer_id]
            return "changed" if any(n <= night for n in changes) else "same"

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
    plan = detail_plan(next_day, lake, previous, refresh_days=1000)
    assert plan.reusable(("1000", "id", "b1"), "same")
    lake.raw_dir(START).rename(tmp_path / "moved-away")
    moved = PreviousSnapshot(START, tmp_path / "moved-away")
    assert not detail_plan(next_day, lake, moved, refresh_days=1000).reusable(
        ("1000", "id", "b1"), "same"
    )


def test_full_refresh_reuses_nothing(tmp_path):
    lake = Lake(tmp_path)
    _, previous = night_of(lake, START, None, 7, lambda c: "same")
    plan = detail_plan(START + dt.timedelta(days=1), lake, previous, full_refresh=True)
    assert not any(plan.reusable((c.customer_id, "id", "b1"), "same") for c in CUSTOMERS)


def due_pairs(plan: DetailPlan) -> list[str]:
    return [c.customer_id for c in CUSTOMERS if plan.due((c.customer_id, "id", "b1"))]


def test_active_customers_pairs_are_due_and_each_badge_gets_one_detail_a_night(tmp_path):
    lake = Lake(tmp_path)
    _, previous = night_of(lake, START, None, 1000, lambda c: "same")
    plan = detail_plan(START + dt.timedelta(days=1), lake, previous, refresh_days=1000)
    everyone = {c.key for c in CUSTOMERS}
    assert due_pairs(plan) == []

    plan.plan_tonight(everyone, set())
    assert due_pairs(plan) == ["1000"]  # stands for b1: no other pair of it is fetched

    plan.plan_tonight(everyone, {("1042", "id")})
    assert due_pairs(plan) == ["1042"]  # the active customer's detail is fresh for b1

    plan.plan_tonight(everyone - {("1000", "id")}, set())
    assert due_pairs(plan) == ["1001"]  # only tonight's customers stand for a badge


def test_a_pair_fetched_on_a_quiet_night_is_refreshed_n_days_later_not_on_its_slot(tmp_path):
    """Its own fetch counts as its refresh: no extra call on its slot night, and still no
    detail older than N days. A crowded night's pairs (the first) keep to their slots."""
    slot = refresh_slot(("1005", "id", "b1"), 7)
    slot_nights = [n for n in range(1, 24) if (START.toordinal() + n) % 7 == slot]
    steady = simulate(tmp_path / "steady", nights=15, refresh_days=7)
    quiet = min((n for n in range(8, 15) if n not in slot_nights), key=lambda n: len(steady[n]))
    assert len(steady[quiet]) + 1 <= 1.5 * len(CUSTOMERS) / 7  # a quiet night, even with it

    nights = simulate(tmp_path / "changed", nights=quiet + 15, refresh_days=7,
                      change_on={quiet: "1005"})  # fmt: skip
    fetches = [night for night, fetched in enumerate(nights) if "1005" in fetched]
    assert fetches[:2] == [0, slot_nights[0]]  # the first night spread to its slot
    assert fetches[fetches.index(quiet) :] == [quiet, quiet + 7, quiet + 14]
    others = [len(fetched) - ("1005" in fetched) for fetched in nights[quiet + 1 :]]
    assert sum(others[:7]) == len(CUSTOMERS) - 1  # everybody else once a week as before
