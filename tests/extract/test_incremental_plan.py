import datetime as dt
from collections import Counter

from pipelines.extract.customers import CustomerRef
from pipelines.extract.incremental import DetailPlan, PreviousSnapshot, fingerprint, meta_stamp

ENTRY = {"badgeMetaId": "b1", "earnedCount": 2, "name": "Runner"}
META = meta_stamp({"lastUpdatedOn": 1713841339.861, "issuedCount": 3, "earnedCount": 9})


def test_fingerprint_follows_the_entries_and_the_meta_stamp_not_the_list_order():
    base = fingerprint([("EARNED", ENTRY), ("AVAILABLE", ENTRY)], META)
    assert base == fingerprint([("AVAILABLE", ENTRY), ("EARNED", ENTRY)], META)
    assert base != fingerprint(
        [("EARNED", {**ENTRY, "earnedCount": 3}), ("AVAILABLE", ENTRY)], META
    )
    assert base != fingerprint([("EARNED", ENTRY)], META)  # left a list
    other_meta = meta_stamp({"lastUpdatedOn": 1713841339.861, "issuedCount": 2, "earnedCount": 9})
    assert base != fingerprint([("EARNED", ENTRY), ("AVAILABLE", ENTRY)], other_meta)


CUSTOMERS = [CustomerRef(str(1000 + i)) for i in range(70)]
START = dt.date(2026, 3, 2)


def simulate(tmp_path, nights: int, refresh_days: int, change_on: dict[int, str] | None = None):
    """Runs `nights` plans over unchanged pairs; returns per night the customers fetched."""
    previous = None
    fetched_by_night = []
    for night in range(nights):
        day = START + dt.timedelta(days=night)
        building = tmp_path / day.isoformat()
        building.mkdir(parents=True)
        plan = DetailPlan(day, building, previous, refresh_days=refresh_days)
        fetched = []
        for customer in CUSTOMERS:
            print_ = "changed" if (change_on or {}).get(night) == customer.customer_id else "same"
            if plan.reusable(customer, "b1", print_):
                plan.reuse(customer, "b1", print_)
            else:
                plan.fetched(customer, "b1", print_)
                fetched.append(customer.customer_id)
        plan.finish()
        previous = PreviousSnapshot(day, building)
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


def test_full_refresh_reuses_nothing(tmp_path):
    simulate(tmp_path / "before", nights=1, refresh_days=7)
    day = START + dt.timedelta(days=1)
    (tmp_path / "after").mkdir()
    previous = PreviousSnapshot(START, tmp_path / "before" / START.isoformat())
    plan = DetailPlan(day, tmp_path / "after", previous, full_refresh=True)
    assert not any(plan.reusable(c, "b1", "same") for c in CUSTOMERS)
