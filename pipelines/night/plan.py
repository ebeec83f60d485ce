"""Preparing a night: its customers, its detail decisions, what it resumes and its plan.

Everything here reads the lake (the last snapshot's archive and tables) and tonight's
checkpoint; nothing calls the API, so `badges plan` shows the same plan a run starts with.
A run's preparation also gives back what crashed nights left and checks the free space
against the night's estimated writes, so a short disk refuses the night before any call.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.client.rates import Rate
from pipelines.client.settings import api_host
from pipelines.extract.incremental import (
    DetailPlan,
    PreviousSnapshot,
    known_details,
    previous_snapshot,
)
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
from pipelines.extract.resume import Resumed, open_checkpoint
from pipelines.extract.rotation import Rotation, last_fetched, population_of, rotate
from pipelines.lake import Lake
from pipelines.lake.keys import CustomerKey, CustomerRef, PairKey
from pipelines.lake.leftovers import give_back_leftovers
from pipelines.lake.nightrecord import NightNote, read_night_note
from pipelines.lake.space import DiskNeed, directory_bytes, ensure_space, estimate_need
from pipelines.lake.sql import parquet_source
from pipelines.lake.tables import CUSTOMER_BADGES
from pipelines.night.options import NightOptions


@dataclass
class PreparedNight:
    snapshot_date: dt.date
    lake: Lake
    previous: PreviousSnapshot | None
    rotation: Rotation
    details: DetailPlan
    resumed: Resumed
    plan: NightPlan
    carried_badges: list[str] = field(default_factory=list)  # listed only by carried customers
    disk: DiskNeed | None = None  # what the night writes before it swaps it in
    host: str = ""  # the API's host, whose limits the night remembers
    limits: dict[str, dict[str, str]] = field(default_factory=dict)  # last night's, per host

    @property
    def building_dir(self) -> Path:
        return self.lake.building_dir(self.snapshot_date)

    @property
    def remembered_limits(self) -> dict[str, Rate]:
        """Per API, the limit measured at tonight's host on an earlier night."""
        return remembered_at(self.limits, self.host)

    def limits_after(self, measured: dict[str, Rate]) -> dict[str, dict[str, str]]:
        """Every host's limits, with those measured tonight at tonight's host."""
        tonight = {api: str(rate) for api, rate in measured.items()}
        return {**self.limits, self.host: {**self.limits.get(self.host, {}), **tonight}}


@dataclass
class LastNight:
    """What the last snapshot tells about tonight."""

    previous: PreviousSnapshot | None
    note: NightNote | None
    last_fetched: dict[CustomerKey, dt.date]
    extra_pages: dict[CustomerKey, int]  # list pages beyond one per list, where there were
    badges: int | None  # badges listed; None without a snapshot
    pairs: dict[CustomerKey, list[PairKey]]  # pairs with a known detail, per customer


def prepare_night(
    lake: Lake,
    snapshot_date: dt.date,
    customers: list[CustomerRef],
    active: list[CustomerRef],
    base_url: str,
    budgets: dict[str, Rate],
    page_size: int,
    options: NightOptions,
    read_only: bool = False,
) -> PreparedNight:
    """Tonight's customers and plan; `read_only` leaves the checkpoint as it is. Otherwise
    what crashed nights left is given back first, and a disk too full for the night raises
    NotEnoughSpace before anything else is written."""
    if not read_only:
        give_back_leftovers(lake)
    previous = previous_snapshot(lake, snapshot_date)
    details = DetailPlan(
        snapshot_date,
        known_details(previous),
        lake.raw_dates(),
        options.refresh_days,
        options.full_refresh,
    )
    last = _last_night(lake, previous, details, page_size)
    population = population_of(customers, active)
    host = api_host(base_url)
    limits = last.note.limits if last.note else {}
    remembered = {api: rate.per_second for api, rate in remembered_at(limits, host).items()}
    rates, sources = rates_per_second(
        budgets, last.note.found_rates if last.note else {}, remembered
    )
    nights = options.rotation_nights
    if nights is None:
        shape = _org_shape(population, active, last, snapshot_date, options)
        nights = choose_rotation(shape, rates, options.night_hours)
    rotation = rotate(snapshot_date, nights, population, active, last.last_fetched)
    disk = _disk_need(lake, snapshot_date, rotation)
    if not read_only:
        ensure_space(lake, disk)
    scope = {c.key for c in rotation.fetch}
    details.plan_tonight(scope, {c.key for c in active})
    carried_badges = _carried_badges(lake, previous, rotation, scope)
    resumed = (
        Resumed()
        if read_only
        else open_checkpoint(lake.building_dir(snapshot_date), base_url, scope, options.restart)
    )
    calls, notes = _calls_tonight(rotation, resumed, details, last, options)
    plan = NightPlan(
        snapshot_date,
        nights,
        len(population),
        len(rotation.fetch),
        calls,
        rates,
        sources,
        options.night_hours,
        resumed_calls=resumed.answered_calls,
        notes=notes,
    )
    return PreparedNight(
        snapshot_date,
        lake,
        previous,
        rotation,
        details,
        resumed,
        plan,
        carried_badges,
        disk,
        host,
        limits,
    )


def _disk_need(lake: Lake, snapshot_date: dt.date, rotation: Rotation) -> DiskNeed | None:
    """The night's need, less what an earlier attempt already checkpointed."""
    need = estimate_need(lake, len(rotation.population), len(rotation.fetch))
    if need is None:
        return None
    checkpointed = directory_bytes(lake.building_dir(snapshot_date))
    return replace(need, raw=max(need.raw - checkpointed, 0))


def _carried_badges(
    lake: Lake, previous: PreviousSnapshot | None, rotation: Rotation, fetched: set[CustomerKey]
) -> list[str]:
    """Badges in the carried customers' lists: their meta is fetched tonight too, so every
    listed badge of the snapshot is described."""
    if previous is None or not rotation.carried:
        return []
    files = lake.table_files(CUSTOMER_BADGES.name, previous.snapshot_date)
    if not files:
        return []
    carried = [c for c in rotation.population if c.key not in fetched]
    carried_table = pa.table(
        {
            "customer_id": [c.customer_id for c in carried],
            "identifier_type": [c.identifier_type for c in carried],
        }
    )
    with duckdb.connect() as con:
        con.register("carried", carried_table)
        rows = con.execute(
            f"SELECT DISTINCT badge_id FROM {parquet_source(files)} "
            "SEMI JOIN carried USING (customer_id, identifier_type) ORDER BY badge_id"
        ).fetchall()
    return [badge_id for (badge_id,) in rows if badge_id is not None]


def _last_night(
    lake: Lake, previous: PreviousSnapshot | None, details: DetailPlan, page_size: int
) -> LastNight:
    if previous is None:
        return LastNight(None, None, {}, {}, None, {})
    pairs: dict[CustomerKey, list[PairKey]] = defaultdict(list)
    for key in details.known_pairs():
        pairs[key[:2]].append(key)
    extra_pages, badges = _last_lists(lake, previous.snapshot_date, page_size)
    return LastNight(
        previous,
        read_night_note(previous.raw_dir),
        last_fetched(previous.raw_dir, previous.snapshot_date),
        extra_pages,
        badges,
        pairs,
    )


def _last_lists(
    lake: Lake, last_date: dt.date, page_size: int
) -> tuple[dict[CustomerKey, int], int | None]:
    """Pages beyond one per list of each customer, and the badges listed, last night."""
    files = lake.table_files(CUSTOMER_BADGES.name, last_date)
    if not files:
        return {}, None
    source = parquet_source(files)
    with duckdb.connect() as con:
        rows = con.execute(
            f"""SELECT customer_id, identifier_type,
                       sum(greatest(ceil(n / {page_size}), 1) - 1)::BIGINT AS extra
                FROM (SELECT customer_id, identifier_type, list_type, count(*) AS n
                      FROM {source} GROUP BY ALL)
                GROUP BY ALL HAVING extra > 0"""
        ).fetchall()
        badges = con.execute(f"SELECT count(DISTINCT badge_id) FROM {source}").fetchone()[0]
    return {(c, i): extra for c, i, extra in rows}, badges


def _org_shape(
    population: list[CustomerRef],
    active: list[CustomerRef],
    last: LastNight,
    today: dt.date,
    options: NightOptions,
) -> OrgShape:
    customers = max(len(population), 1)
    seen = [c.key for c in population if c.key in last.last_fetched]
    known_pairs = sum(len(last.pairs.get(k, ())) for k in seen)
    return OrgShape(
        customers=len(population),
        pages_per_customer=LIST_TYPES_PER_CUSTOMER + sum(last.extra_pages.values()) / customers,
        pairs_per_customer=known_pairs / len(seen) if seen else PAIRS_PER_NEW_CUSTOMER,
        badges=last.badges or 0,
        changed_share=last.note.changed_share if last.note else 0.0,
        refresh_days=options.refresh_days,
        active=len(set(active)),
        age_histogram=ages_of({k: last.last_fetched[k] for k in seen}, today),
        full_refresh=options.full_refresh,
    )


def _calls_tonight(
    rotation: Rotation,
    resumed: Resumed,
    details: DetailPlan,
    last: LastNight,
    options: NightOptions,
) -> tuple[dict[str, int], list[str]]:
    changed_share = last.note.changed_share if last.note else 0.0
    notes: list[str] = []
    lists = 0
    expected_details = 0.0
    for customer in rotation.fetch:
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
                expected_details += changed_share
    if last.badges is None:
        notes.append(
            f"no earlier snapshot: details estimated at {PAIRS_PER_NEW_CUSTOMER:g} per "
            "customer, badge meta calls unknown"
        )
    metas = max(0, (last.badges or 0) - len(resumed.meta_stamps))
    if changed_share:
        notes.append(f"assumes {changed_share:.1%} of reusable details changed, as last night")
    return {META: metas, LISTS: lists, DETAILS: round(expected_details)}, notes


def found_or_achieved_rates(seconds: float, calls: Counter[str], found: dict[str, float]) -> dict:
    """Per API: the rate found from 429s, else the pace achieved (for the next plan)."""
    achieved = {api: n / seconds for api, n in calls.items() if seconds > 0 and n}
    return {**achieved, **found}
