"""A plan before the night: the calls per API, the hours they take, and the rotation N.

Calls are counted from what the last snapshot knows: each customer's list sizes (pages
of `page_size`; a customer never seen: one page per list), each pair's fingerprint age
(due by age or by its customer's activity, or reused unless it changed: the share that
changed last night is assumed again), the badges listed (one meta call each), minus
what a resumed night already has.
The APIs run side by side, each at its own limit, so the night lasts as long as its
slowest API: calls / rate, with the rate from the stated budget (`CAPILLARY_RATE_LIMIT`),
else the limit measured at the API's host on an earlier night, else the pace the last
night achieved (unknown on a first night).

The rotation N is the smallest that fits the window (`BADGES_NIGHT_HOURS`), estimated
with every customer's age since its last fetch; 1 when a full pull fits or nothing
tells the rates.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from pipelines.client.endpoints import API_NAMES, DETAIL_ENDPOINT, LIST_ENDPOINT, META_ENDPOINT
from pipelines.client.rates import Rate, parse_rate

LISTS, DETAILS, META = LIST_ENDPOINT.name, DETAIL_ENDPOINT.name, META_ENDPOINT.name
LIST_TYPES_PER_CUSTOMER = 4
MAX_ROTATION_NIGHTS = 60
PAIRS_PER_NEW_CUSTOMER = 6.0  # a guess for customers no snapshot has seen yet


@dataclass(frozen=True)
class OrgShape:
    """The averages a rotation's cost is estimated from."""

    customers: int
    pages_per_customer: float  # list calls per customer fetched
    pairs_per_customer: float
    badges: int
    changed_share: float  # of reusable pairs, the share that changed last night
    refresh_days: int
    active: int = 0
    age_histogram: Mapping[int, int] = field(default_factory=dict)  # days since fetched -> n
    full_refresh: bool = False

    def calls(self, nights: int) -> dict[str, float]:
        """Expected calls per API with rotation over `nights`."""
        due_by_age = sum(n for age, n in self.age_histogram.items() if age >= nights)
        forced = min(self.customers, self.active + due_by_age)
        fetched = forced + (self.customers - forced) / nights
        if self.full_refresh or nights >= self.refresh_days:
            detail_share = 1.0
        else:
            detail_share = min(1.0, 1 / self.refresh_days + self.changed_share)
        active = min(self.active, fetched)  # every detail of an active customer is fetched
        return {
            LISTS: fetched * self.pages_per_customer,
            DETAILS: (active + (fetched - active) * detail_share) * self.pairs_per_customer,
            META: float(self.badges),
        }


def hours_for(calls: Mapping[str, float], rates: Mapping[str, float | None]) -> float | None:
    """Hours of the slowest API; None when an API with calls has no known rate."""
    seconds = 0.0
    for api, count in calls.items():
        if count <= 0:
            continue
        rate = rates.get(api)
        if not rate:
            return None
        seconds = max(seconds, count / rate)
    return seconds / 3600


def choose_rotation(shape: OrgShape, rates: Mapping[str, float | None], window: float) -> int:
    """The smallest N whose night fits `window` hours (1 when the rates are unknown)."""
    for nights in range(1, MAX_ROTATION_NIGHTS + 1):
        hours = hours_for(shape.calls(nights), rates)
        if hours is None or hours <= window:
            return nights
    return MAX_ROTATION_NIGHTS


def rates_per_second(
    budgets: Mapping[str, Rate],
    found: Mapping[str, float],
    limits: Mapping[str, float] | None = None,
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Each API's rate for the estimate, and where it comes from: the budget, the limit
    measured at the host (`limits`), or the rate the last night found or achieved."""
    rates: dict[str, float | None] = {}
    sources: dict[str, str] = {}
    limits = limits or {}
    for api in API_NAMES:
        if api in budgets:
            rates[api], sources[api] = budgets[api].per_second, f"budget {budgets[api]}"
        elif limits.get(api):
            rates[api], sources[api] = limits[api], "limit measured at this host earlier"
        elif found.get(api):
            rates[api], sources[api] = found[api], "measured on the last night"
        else:
            rates[api], sources[api] = None, "unknown (no budget, no earlier night)"
    return rates, sources


def remembered_at(limits: dict[str, dict[str, str]], host: str) -> dict[str, Rate]:
    """The limits a night record holds for `host`, per API."""
    return {
        api: parse_rate(text, f"the night record's limit of {api} at {host}")
        for api, text in limits.get(host, {}).items()
    }


@dataclass
class NightPlan:
    snapshot_date: dt.date
    rotation_nights: int
    customers: int
    customers_fetched: int
    calls: dict[str, int]
    rates: dict[str, float | None]
    rate_sources: dict[str, str]
    window_hours: float
    resumed_calls: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def hours(self) -> float | None:
        return hours_for(self.calls, self.rates)

    @property
    def fits(self) -> bool | None:
        hours = self.hours
        return None if hours is None else hours <= self.window_hours

    def describe(self) -> str:
        hours = self.hours
        verdict = {True: "fits", False: "does NOT fit", None: "cannot tell whether it fits"}
        lines = [
            f"plan for {self.snapshot_date}: rotation over {self.rotation_nights} night(s), "
            f"lists of {self.customers_fetched:,} of {self.customers:,} customers",
            f"  calls: {self.total_calls:,}"
            + (f" (after {self.resumed_calls:,} already answered)" if self.resumed_calls else ""),
        ]
        for api in API_NAMES:
            rate = self.rates.get(api)
            pace = f"{rate * 60:,.1f}/min" if rate else "?"
            took = f"{self.calls[api] / rate / 3600:,.2f} h" if rate else "? h"
            lines.append(
                f"    {api:<24}{self.calls[api]:>12,}  at {pace:>12}  {took:>10}  "
                f"({self.rate_sources[api]})"
            )
        took = "unknown" if hours is None else f"{hours:,.2f} h"
        lines.append(f"  duration: {took}; {verdict[self.fits]} the {self.window_hours:g} h window")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    def as_metadata(self) -> dict[str, object]:
        hours = self.hours
        return {
            "plan_rotation_nights": self.rotation_nights,
            "plan_customers_fetched": self.customers_fetched,
            "plan_calls": dict(self.calls),
            "plan_total_calls": self.total_calls,
            "plan_hours": None if hours is None else round(hours, 3),
            "plan_fits_window": self.fits,
        }


def ages_of(last_fetched: Mapping[tuple[str, str], dt.date], today: dt.date) -> Counter[int]:
    return Counter((today - day).days for day in last_fetched.values())
