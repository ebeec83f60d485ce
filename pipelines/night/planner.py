"""Tonight's plan, from what the last snapshot tells, who is there and the night's options.

Nothing here reads a file, the lake, the environment or the clock: `prepare.py` reads what
the plan needs and hands it over, so the same inputs always give the same plan.

- `plan`: the rotation (given, or the smallest that fits the window), who is fetched
  tonight, each API's rate and where it comes from, and which details are due.
- `estimate_night`: the calls tonight takes per API, once the checkpoint tells what an
  earlier attempt of the night already has.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from pipelines.client.rates import Rate
from pipelines.client.settings import api_host
from pipelines.extract.incremental import DetailPlan, PreviousSnapshot
from pipelines.extract.planning import (
    DETAILS,
    LIST_TYPES_PER_CUSTOMER,
    LISTS,
    META,
    PAIRS_PER_NEW_CUSTOMER,
    NightPlan,
    OrgShape,
    ages_of,
    choose_rotation,
    rates_per_second,
    remembered_at,
)
from pipelines.extract.resume import Resumed
from pipelines.extract.rotation import Rotation, population_of, rotate
from pipelines.lake.keys import CustomerKey, CustomerRef, PairKey
from pipelines.lake.nightrecord import NightNote
from pipelines.night.options import NightOptions


@dataclass(frozen=True)
class LastNight:
    """What the last snapshot tells about tonight (nothing, on a first night)."""

    previous: PreviousSnapshot | None = None
    note: NightNote | None = None
    last_fetched: dict[CustomerKey, dt.date] = field(default_factory=dict)
    extra_pages: Mapping[CustomerKey, int] = field(default_factory=dict)  # beyond one per list
    badges: int | None = None  # badges listed; None without a snapshot
    fingerprints: Mapping[PairKey, tuple[str, dt.date]] = field(default_factory=dict)
    archived: frozenset[dt.date] = frozenset()  # dates whose archive is there

    @cached_property
    def pairs(self) -> dict[CustomerKey, list[PairKey]]:
        """Pairs with a known detail, per customer."""
        pairs: dict[CustomerKey, list[PairKey]] = defaultdict(list)
        for key in self.fingerprints:
            pairs[key[:2]].append(key)
        return dict(pairs)

    @property
    def limits(self) -> dict[str, dict[str, str]]:
        """Per host, the limits measured on earlier nights."""
        return self.note.limits if self.note else {}

    @property
    def changed_share(self) -> float:
        return self.note.changed_share if self.note else 0.0


@dataclass(frozen=True)
class Population:
    """Who is there tonight, and the API they are fetched from, at its stated limits."""

    snapshot_date: dt.date
    customers: list[CustomerRef]  # the customers file, plus the active ones it lacks
    active: list[CustomerRef]
    base_url: str
    rate_limits: Mapping[str, Rate] = field(default_factory=dict)  # per API; absent: unknown
    page_size: int = 50

    @classmethod
    def of(
        cls,
        snapshot_date: dt.date,
        customers: list[CustomerRef],
        active: list[CustomerRef],
        base_url: str,
        rate_limits: Mapping[str, Rate] | None = None,
        page_size: int = 50,
    ) -> Population:
        """Tonight's population: the customers file and the active customers."""
        everyone = population_of(customers, active)
        return cls(snapshot_date, everyone, list(active), base_url, rate_limits or {}, page_size)

    @property
    def host(self) -> str:
        return api_host(self.base_url)


@dataclass(frozen=True)
class Tonight:
    """The night as planned: who is fetched, at which rates, which details are due."""

    rotation: Rotation
    details: DetailPlan
    rates: dict[str, float | None]
    rate_sources: dict[str, str]

    @cached_property
    def scope(self) -> set[CustomerKey]:
        """The customers fetched tonight."""
        return {c.key for c in self.rotation.fetch}


def plan(last: LastNight, population: Population, options: NightOptions) -> Tonight:
    """Tonight's rotation, rates and detail decisions."""
    rates, sources = _rates(last, population)
    nights = options.rotation_nights
    if nights is None:
        nights = choose_rotation(_org_shape(population, last, options), rates, options.night_hours)
    rotation = rotate(
        population.snapshot_date, nights, population.customers, population.active, last.last_fetched
    )
    details = DetailPlan(
        population.snapshot_date,
        last.fingerprints,
        last.archived,
        options.refresh_days,
        options.full_refresh,
    )
    tonight = Tonight(rotation, details, rates, sources)
    details.plan_tonight(tonight.scope, {c.key for c in population.active})
    return tonight


def _rates(
    last: LastNight, population: Population
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Per API: the stated limit, else the one remembered at tonight's host, else the rate
    the last night found or achieved."""
    remembered = remembered_at(last.limits, population.host)
    return rates_per_second(
        population.rate_limits,
        last.note.found_rates if last.note else {},
        {api: rate.per_second for api, rate in remembered.items()},
    )


def _org_shape(population: Population, last: LastNight, options: NightOptions) -> OrgShape:
    customers = population.customers
    seen = [c.key for c in customers if c.key in last.last_fetched]
    known_pairs = sum(len(last.pairs.get(k, ())) for k in seen)
    return OrgShape(
        customers=len(customers),
        pages_per_customer=LIST_TYPES_PER_CUSTOMER
        + sum(last.extra_pages.values()) / max(len(customers), 1),
        pairs_per_customer=known_pairs / len(seen) if seen else PAIRS_PER_NEW_CUSTOMER,
        badges=last.badges or 0,
        changed_share=last.changed_share,
        refresh_days=options.refresh_days,
        active=len(set(population.active)),
        age_histogram=ages_of({k: last.last_fetched[k] for k in seen}, population.snapshot_date),
        full_refresh=options.full_refresh,
    )


def estimate_night(
    tonight: Tonight, last: LastNight, resumed: Resumed, options: NightOptions
) -> NightPlan:
    """Tonight's calls per API and the hours they take, less what `resumed` already has."""
    rotation = tonight.rotation
    calls, notes = _calls_tonight(tonight, last, resumed, options)
    return NightPlan(
        rotation.snapshot_date,
        rotation.nights,
        len(rotation.population),
        len(rotation.fetch),
        calls,
        tonight.rates,
        tonight.rate_sources,
        options.night_hours,
        resumed_calls=resumed.answered_calls,
        notes=notes,
    )


def _calls_tonight(
    tonight: Tonight, last: LastNight, resumed: Resumed, options: NightOptions
) -> tuple[dict[str, int], list[str]]:
    details = tonight.details
    notes: list[str] = []
    lists = 0
    expected_details = 0.0
    for customer in tonight.rotation.fetch:
        key = customer.key
        if key in resumed.listed:
            pairs = [(*key, badge) for badge, _ in resumed.listed[key]]
        else:
            lists += LIST_TYPES_PER_CUSTOMER + last.extra_pages.get(key, 0)
            if key not in last.last_fetched:
                expected_details += PAIRS_PER_NEW_CUSTOMER
                continue
            pairs = last.pairs.get(key, [])
        for pair in pairs:
            if pair in resumed.details_done:
                continue
            if options.full_refresh or details.known(pair) is None or details.due(pair):
                expected_details += 1
            else:
                expected_details += last.changed_share
    if last.badges is None:
        notes.append(
            f"no earlier snapshot: details estimated at {PAIRS_PER_NEW_CUSTOMER:g} per "
            "customer, badge meta calls unknown"
        )
    metas = max(0, (last.badges or 0) - len(resumed.meta_stamps))
    if last.changed_share:
        notes.append(f"assumes {last.changed_share:.1%} of reusable details changed, as last night")
    return {META: metas, LISTS: lists, DETAILS: round(expected_details)}, notes


def found_or_achieved_rates(seconds: float, calls: Counter[str], found: dict[str, float]) -> dict:
    """Per API: the rate found from 429s, else the pace achieved (for the next plan)."""
    achieved = {api: n / seconds for api, n in calls.items() if seconds > 0 and n}
    return {**achieved, **found}
