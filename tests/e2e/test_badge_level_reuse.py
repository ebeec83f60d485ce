"""A reused detail keeps its own figures but tonight's badge-level counts."""

from __future__ import annotations

import duckdb

from pipelines.sandbox import Org, SandboxApiError
from pipelines.sandbox.model import window_counts
from tests.e2e.conftest import Pipeline
from tests.e2e.test_incremental import fetched_pairs

PairKey = tuple[str, str, str]


def warehouse_keys(org: Org) -> dict[str, tuple[str, str]]:
    """Sandbox customer id -> (customer_id, identifier_type) as the customers file sends it."""
    rows = org.customer_rows()
    return {c.customer_id: tuple(row) for c, row in zip(org.customers, rows, strict=True)}


def badge_counts(org: Org, badge_id: str) -> list[int | None]:
    """The sandbox's own badge-level counts of the badge right now, sorted."""
    badge = org.badges[badge_id]
    times = org.badge_earn_times(badge_id)
    counts = [
        count.count
        for constraint in badge.constraints
        if constraint.level == "BADGE"
        for count in window_counts(constraint, times, org.as_of_us)
    ]
    return sorted(counts, key=lambda n: -1 if n is None else n)


def has_room(org: Org, badge_id: str) -> bool:
    """Counted badge-level constraints, each with room for two more earns."""
    badge = org.badges[badge_id]
    times = org.badge_earn_times(badge_id)
    counted = [c for c in badge.constraints if c.level == "BADGE" and c.kind != "NO_LIMIT"]
    return bool(counted) and all(
        count.window.max_earn_limit is None or (count.count or 0) + 2 < count.window.max_earn_limit
        for c in counted
        for count in window_counts(c, times, org.as_of_us)
    )


def rows_of(pipeline: Pipeline, pair: PairKey, level: str) -> list[tuple]:
    with duckdb.connect(str(pipeline.lake.warehouse_path), read_only=True) as con:
        return con.execute(
            "SELECT constraint_kind, window_unit, window_length, current_earn_count, fetched_on "
            "FROM main.customer_badge_constraints WHERE customer_id = ? AND identifier_type = ? "
            "AND badge_id = ? AND constraint_level = ? ORDER BY ALL",
            [*pair, level],
        ).fetchall()


def counts_of(pipeline: Pipeline, pair: PairKey) -> list[int | None]:
    counts = [row[3] for row in rows_of(pipeline, pair, "BADGE")]
    return sorted(counts, key=lambda n: -1 if n is None else n)


def earn_elsewhere(org: Org, badge_id: str, customers: list[str]) -> str:
    """Adds an earn of the badge for the first of `customers` the rules allow."""
    for customer_id in customers:
        try:
            org.add_earn(customer_id, badge_id)
        except SandboxApiError:  # a constraint forbids this one
            continue
        return customer_id
    raise AssertionError(f"no customer may earn {badge_id}")


def test_a_reused_detail_carries_the_badge_level_counts_of_tonight(pipeline: Pipeline):
    org = pipeline.org
    keys = warehouse_keys(org)
    by_badge: dict[str, list[str]] = {}
    for customer_id, badge_id in sorted(org.listed_pairs()):
        by_badge.setdefault(badge_id, []).append(customer_id)
    badge_id, customers = next(
        (b, sorted(cs, key=keys.get))
        for b, cs in sorted(by_badge.items())
        if len(cs) >= 4 and has_room(org, b)
    )
    # the first pair of the badge stands for it tonight; the last one is reused
    reused = (*keys[customers[-1]], badge_id)
    assert pipeline.run().success
    counts_before = counts_of(pipeline, reused)
    assert counts_before == badge_counts(org, badge_id)
    customer_rows_before = rows_of(pipeline, reused, "CUSTOMER")

    earner = earn_elsewhere(org, badge_id, customers[1:-1])
    assert pipeline.run().success

    fetched = fetched_pairs(pipeline.lake)
    assert (*keys[earner], badge_id) in fetched
    assert reused not in fetched  # its own lists did not change: its detail was reused
    counts_after = counts_of(pipeline, reused)
    assert (
        counts_after
        == badge_counts(org, badge_id)
        == counts_of(pipeline, (*keys[earner], badge_id))
    )
    assert counts_after != counts_before  # the earn elsewhere is counted
    assert rows_of(pipeline, reused, "CUSTOMER") == customer_rows_before
