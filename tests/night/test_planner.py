"""The night's plan from its inputs alone: no data directory, no lake, no clock.

The last night points at an archive that does not exist: the plan never reads it.
"""

import datetime as dt
from pathlib import Path

import pytest

from pipelines.client.rates import Rate
from pipelines.extract.incremental import PreviousSnapshot
from pipelines.extract.planning import DETAILS, LISTS, META
from pipelines.extract.resume import Resumed
from pipelines.lake.keys import CustomerRef
from pipelines.lake.nightrecord import NightNote
from pipelines.night.options import NightOptions
from pipelines.night.planner import LastNight, Population, estimate_night, plan

DAY = dt.date(2026, 3, 12)  # rotation slot 1 of 3 and 3 of 4, refresh slot 4 of 7
YESTERDAY = DAY - dt.timedelta(days=1)
URL = "https://eu.api.example.com/v2"
CUSTOMERS = [CustomerRef(str(100 + i)) for i in range(12)]
NOWHERE = PreviousSnapshot(YESTERDAY, Path("/no/such/archive"))
ALL_YESTERDAY = {c.key: YESTERDAY for c in CUSTOMERS}


def ids(customers: list[CustomerRef]) -> list[str]:
    return [c.customer_id for c in customers]


def test_a_first_night_with_unknown_rates_fetches_everyone():
    tonight = plan(LastNight(), Population.of(DAY, CUSTOMERS, [], URL), NightOptions())

    assert tonight.rotation.nights == 1
    assert ids(tonight.rotation.fetch) == ids(CUSTOMERS)
    assert tonight.rates == {META: None, LISTS: None, DETAILS: None}
    assert set(tonight.rate_sources.values()) == {"unknown (no budget, no earlier night)"}


def test_a_first_night_under_stated_limits_chooses_the_rotation_that_fits():
    """48 list calls (4 per customer) at 12 an hour: 4 nights fill a 1-hour window."""
    limits = {LISTS: Rate(12, 3600.0), DETAILS: Rate(60, 60.0), META: Rate(60, 60.0)}
    population = Population.of(DAY, CUSTOMERS, [], URL, limits)

    tonight = plan(LastNight(), population, NightOptions(night_hours=1.0))

    assert tonight.rotation.nights == 4
    assert ids(tonight.rotation.fetch) == ["100", "106", "110"]  # slot 3, unseen or not
    assert tonight.rates[LISTS] == pytest.approx(12 / 3600)
    assert tonight.rate_sources[LISTS] == "budget 12/h"


def test_a_given_rotation_fetches_the_slot_the_active_and_the_customers_unseen_too_long():
    three_nights_ago = {("101", "id"): DAY - dt.timedelta(days=3)}
    last = LastNight(NOWHERE, last_fetched=ALL_YESTERDAY | three_nights_ago)
    newcomer = CustomerRef("999")
    population = Population.of(DAY, CUSTOMERS, [CustomerRef("107"), newcomer], URL)

    tonight = plan(last, population, NightOptions(rotation_nights=3))

    assert tonight.rotation.nights == 3
    assert ids(tonight.rotation.population) == [*ids(CUSTOMERS), "999"]
    # slot 1: 100, 103, 105, 109; 101 unseen for 3 nights; 107 and 999 active; 108, of
    # slot 0 and fetched yesterday, is carried
    assert ids(tonight.rotation.fetch) == ["100", "101", "103", "105", "107", "109", "999"]
    assert tonight.rotation.carried == 6
    assert tonight.scope == {c.key for c in tonight.rotation.fetch}


def test_rates_come_from_the_limits_then_this_hosts_remembered_limits_then_found_rates():
    note = NightNote(
        YESTERDAY.isoformat(),
        found_rates={LISTS: 2.0, DETAILS: 3.0, META: 0.5},
        limits={"eu.api.example.com": {DETAILS: "40/5s"}, "us.api.example.com": {META: "10/s"}},
    )
    population = Population.of(DAY, CUSTOMERS, [], URL, {LISTS: Rate(600, 60.0)})

    tonight = plan(LastNight(NOWHERE, note), population, NightOptions(rotation_nights=1))

    assert tonight.rates == {LISTS: 10.0, DETAILS: 8.0, META: 0.5}
    assert tonight.rate_sources == {
        LISTS: "budget 600/min",
        DETAILS: "limit measured at this host earlier",
        META: "measured on the last night",  # another host's limit is not this one's
    }


def test_details_are_due_for_active_customers_and_for_nights_without_an_archive():
    fingerprints = {
        ("100", "id", "b1"): ("p100", YESTERDAY),
        ("101", "id", "b1"): ("p101", YESTERDAY),
        ("102", "id", "b1"): ("p102", YESTERDAY),
        ("103", "id", "b1"): ("p103", DAY - dt.timedelta(days=2)),  # its archive is gone
    }
    last = LastNight(
        NOWHERE,
        last_fetched=ALL_YESTERDAY,
        fingerprints=fingerprints,
        archived=frozenset({YESTERDAY}),
    )
    population = Population.of(DAY, CUSTOMERS, [CustomerRef("101")], URL)

    details = plan(last, population, NightOptions(rotation_nights=1)).details

    assert [key[0] for key in fingerprints if details.due(key)] == ["101", "103"]
    assert details.reusable(("102", "id", "b1"), "p102")
    assert not details.reusable(("102", "id", "b1"), "changed")
    assert details.has_archive(YESTERDAY) and not details.has_archive(DAY - dt.timedelta(days=2))


def test_the_estimate_counts_lists_and_details_and_skips_what_was_resumed():
    customers = [CustomerRef(i) for i in ("100", "101", "102", "103")]
    pairs = [("100", "b1"), ("100", "b2"), ("101", "b1"), ("102", "b1"), ("102", "b3")]
    fingerprints = {(c, "id", b): (f"p{c}{b}", YESTERDAY) for c, b in pairs}
    last = LastNight(
        NOWHERE,
        NightNote(YESTERDAY.isoformat(), pairs_reusable=10, pairs_changed=1),
        last_fetched={c.key: YESTERDAY for c in customers[:3]},  # 103 is new
        extra_pages={("100", "id"): 2},
        badges=5,
        fingerprints=fingerprints,
        archived=frozenset({YESTERDAY}),
    )
    resumed = Resumed(
        answered_calls=7,
        meta_stamps={"b1": None, "b2": None},
        listed={("102", "id"): [("b1", b""), ("b3", b""), ("b4", b"")]},
        details_done={("102", "id", "b1")},
    )
    options = NightOptions(rotation_nights=1)
    tonight = plan(last, Population.of(DAY, customers, [], URL), options)

    night = estimate_night(tonight, last, resumed, options)

    # lists: 100 with 2 pages more (6), 101 (4), 103 (4); 102's were answered already.
    # details: 100's b1 and b2 stand for their badges (2), 101's b1 changed as 10% did
    # last night (0.1), 102's b3 stands for its badge and b4 is new (2), 103 is new (6)
    assert night.calls == {META: 3, LISTS: 14, DETAILS: 10}
    assert (night.customers, night.customers_fetched, night.resumed_calls) == (4, 4, 7)
    assert night.notes == ["assumes 10.0% of reusable details changed, as last night"]


def test_a_first_night_estimates_details_for_new_customers_and_says_so():
    population = Population.of(DAY, CUSTOMERS[:2], [], URL)
    tonight = plan(LastNight(), population, NightOptions())

    night = estimate_night(tonight, LastNight(), Resumed(), NightOptions())

    assert night.calls == {META: 0, LISTS: 8, DETAILS: 12}
    assert night.notes == [
        "no earlier snapshot: details estimated at 6 per customer, badge meta calls unknown"
    ]
