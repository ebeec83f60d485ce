"""The generated history is a steady program's: no day stands out, the last ones neither."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable

import pytest

from pipelines.sandbox import Org, generate_org
from pipelines.sandbox.model import DAY
from tests.sandbox.conftest import AS_OF


@pytest.fixture(scope="module")
def org() -> Org:
    return generate_org(customers=2000, badges=80, seed=7, as_of=AS_OF)


def days_before(org: Org, instants: Iterable[int]) -> Counter[int]:
    """How many instants fall on each day before as_of (0: the last day)."""
    return Counter((org.as_of_us - instant) // DAY for instant in instants)


def assert_steady(per_day: Counter[int]) -> None:
    median = statistics.median(per_day.get(day, 0) for day in range(90))
    assert median >= 10
    busiest = per_day.most_common(3)
    assert busiest[0][1] <= 3 * median, (median, busiest)
    assert min(per_day) >= 0  # nothing after as_of


def test_no_day_holds_more_than_three_times_the_median_daily_earns_of_the_last_90_days(org):
    earns = (e.earned_us for history in org.histories.values() for e in history.earns)
    assert_steady(days_before(org, earns))


def test_issuals_are_spread_the_same_way(org):
    issuals = (i.issued_us for history in org.histories.values() for i in history.issuals)
    assert_steady(days_before(org, issuals))
