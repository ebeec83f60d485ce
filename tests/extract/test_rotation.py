"""Rotation over N nights: no customer's lists older than N, active customers the same night."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from pipelines.extract.customers import CustomerRef
from pipelines.extract.planning import OrgShape, choose_rotation, hours_for
from pipelines.extract.rotation import population_of, rotate

START = dt.date(2026, 4, 1)
POPULATION = [CustomerRef(str(5000 + n)) for n in range(600)] + [
    CustomerRef(f"member{n}@example.com", "email") for n in range(100)
]


def simulate(nights: int, rounds: int, active_share: float, seed: int = 3):
    """Rotation night after night, feeding each night's fetches into the next."""
    rng = random.Random(seed)
    last: dict[tuple[str, str], dt.date] = {}
    history = []
    for night in range(rounds):
        day = START + dt.timedelta(days=night)
        active = rng.sample(POPULATION, round(active_share * len(POPULATION)))
        rotation = rotate(day, nights, POPULATION, active, last)
        for customer in rotation.fetch:
            last[(customer.customer_id, customer.identifier_type)] = day
        history.append((day, set(active), rotation, dict(last)))
    return history


def test_fifteen_nights_keep_every_customer_younger_than_n_and_fetch_active_ones_at_once():
    nights = 4
    history = simulate(nights, rounds=15, active_share=0.02)
    for day, active, rotation, fetched_on in history[nights:]:
        ages = [(day - fetched_on[(c.customer_id, c.identifier_type)]).days for c in POPULATION]
        assert max(ages) < nights, day
        assert active <= set(rotation.fetch)
        # about 1/N of the others each night, plus the active ones
        expected = len(POPULATION) / nights + len(active)
        assert 0.7 * expected <= len(rotation.fetch) <= 1.3 * expected, len(rotation.fetch)


def test_the_first_load_of_a_large_org_is_spread_over_n_nights_too():
    history = simulate(nights=5, rounds=5, active_share=0.0)
    first_fetches = [len(rotation.fetch) for _, _, rotation, _ in history]
    assert sum(first_fetches) == len(POPULATION)  # everyone once, within N nights
    assert max(first_fetches) < len(POPULATION) / 2


def test_one_night_fetches_everyone():
    rotation = rotate(START, 1, POPULATION, [], {})
    assert rotation.fetch == POPULATION and rotation.carried == 0


def test_active_customers_missing_from_the_customers_file_join_the_population():
    newcomer = CustomerRef("999999")
    assert population_of(POPULATION[:3], [POPULATION[1], newcomer]) == [*POPULATION[:3], newcomer]


def shape(customers: int, **overrides) -> OrgShape:
    base = {
        "customers": customers,
        "pages_per_customer": 4.1,
        "pairs_per_customer": 6.0,
        "badges": 80,
        "changed_share": 0.02,
        "refresh_days": 7,
        "active": customers // 50,
    }
    return OrgShape(**(base | overrides))


def test_the_planner_rotates_only_when_a_full_pull_does_not_fit():
    per_minute = {
        api: 1000 / 60 for api in ("badge_meta", "customer_badges", "customer_badge_detail")
    }
    assert choose_rotation(shape(300), per_minute, window=6) == 1
    big = shape(1_000_000)
    nights = choose_rotation(big, per_minute, window=6)
    assert nights > 1
    assert (
        hours_for(big.calls(nights), per_minute) <= 6 < hours_for(big.calls(nights - 1), per_minute)
    )


def test_without_known_rates_the_planner_cannot_tell_and_keeps_a_full_pull():
    assert hours_for(shape(10_000).calls(1), {}) is None
    assert choose_rotation(shape(10_000), {}, window=6) == 1


@pytest.mark.parametrize("nights", [0, -2])
def test_rotation_needs_at_least_one_night(nights):
    with pytest.raises(ValueError, match="at least 1"):
        rotate(START, nights, POPULATION, [], {})
