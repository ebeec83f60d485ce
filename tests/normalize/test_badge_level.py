"""Badge-level constraint rows of reused and carried pairs are those of tonight's detail."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.client.endpoints import DETAIL_ENDPOINT
from pipelines.lake import Lake
from pipelines.lake.raw import RawRecord
from pipelines.lake.tables import CUSTOMER_BADGE_CONSTRAINTS
from pipelines.normalize.carry import CarryForward
from pipelines.normalize.normalizer import SnapshotNormalizer
from pipelines.sandbox import Org, generate_org
from pipelines.sandbox.render import detail_body

TONIGHT = dt.date(2026, 3, 2)
LAST_NIGHT = TONIGHT - dt.timedelta(days=1)


def detail(org: Org, customer_id: str, badge_id: str, reused_from=None, body=None) -> RawRecord:
    customer = org.find_customer(customer_id)
    return RawRecord(
        endpoint=DETAIL_ENDPOINT.name,
        request_path=f"/detail/{customer_id}/{badge_id}",
        ok=True,
        http_status=200,
        body=body or detail_body(org, customer, org.badges[badge_id], True),
        customer_id=customer_id,
        identifier_type="id",
        badge_id=badge_id,
        reused_from=reused_from,
    )


def normalize(lake: Lake, day: dt.date, records: list[RawRecord], carry=None) -> None:
    normalizer = SnapshotNormalizer(lake, day)
    normalizer.feed(records)
    normalizer.close(carry)
    normalizer.publish()


def constraint_rows(lake: Lake, day: dt.date, customer_id: str, level: str) -> list[tuple]:
    rows = [
        row
        for path in lake.table_files(CUSTOMER_BADGE_CONSTRAINTS.name, day)
        for row in pq.read_table(path, partitioning=None).to_pylist()
    ]
    return sorted(
        (r["constraint_kind"], r["window_unit"], r["window_length"], r["current_earn_count"])
        for r in rows
        if r["customer_id"] == customer_id and r["constraint_level"] == level
    )


def badge_with_room(org: Org) -> tuple[str, list[str]]:
    """A badge with a counted badge-level constraint and three customers, one of whom
    may earn it again."""
    for badge_id, badge in sorted(org.badges.items()):
        if not any(c.level == "BADGE" and c.kind != "NO_LIMIT" for c in badge.constraints):
            continue
        customers = sorted(c for c, b in org.listed_pairs() if b == badge_id)
        if len(customers) >= 3 and org.is_under_limits(customers[0], badge_id):
            return badge_id, customers[:3]
    raise AssertionError("no badge fits")


def test_reused_and_carried_pairs_get_tonights_badge_level_counts(tmp_path: Path):
    org = generate_org(customers=60, badges=24, seed=11, as_of=TONIGHT)
    lake = Lake(tmp_path)
    badge_id, (earner, reused, carried) = badge_with_room(org)
    last_bodies = {c: detail(org, c, badge_id).body for c in (earner, reused, carried)}
    normalize(lake, LAST_NIGHT, [detail(org, c, badge_id) for c in (earner, reused, carried)])

    org.add_earn(earner, badge_id)
    records = [
        detail(org, earner, badge_id),
        detail(org, reused, badge_id, reused_from=LAST_NIGHT, body=last_bodies[reused]),
    ]
    customers = pa.table({"customer_id": [carried], "identifier_type": ["id"]})
    normalize(lake, TONIGHT, records, CarryForward(LAST_NIGHT, customers))

    tonight = constraint_rows(lake, TONIGHT, earner, "BADGE")
    assert tonight and any(row[3] for row in tonight)
    assert tonight != constraint_rows(lake, LAST_NIGHT, earner, "BADGE")  # the earn counts
    assert constraint_rows(lake, TONIGHT, reused, "BADGE") == tonight
    assert constraint_rows(lake, TONIGHT, carried, "BADGE") == tonight
    for customer_id in (reused, carried):  # their own rows are kept as they were
        own = constraint_rows(lake, TONIGHT, customer_id, "CUSTOMER")
        assert own == constraint_rows(lake, LAST_NIGHT, customer_id, "CUSTOMER")


def without_badge_constraints(body: bytes) -> bytes:
    """The detail as the vendor sometimes answers it: no `badgeConstraints` key at all."""
    answer = orjson.loads(body)
    del answer["data"]["badgeConstraints"]
    return orjson.dumps(answer)


def test_a_detail_without_badge_constraints_neither_replaces_nor_takes_them(tmp_path: Path):
    org = generate_org(customers=60, badges=24, seed=11, as_of=TONIGHT)
    lake = Lake(tmp_path)
    badge_id, (stating, silent, reused) = badge_with_room(org)
    silent_body = without_badge_constraints(detail(org, silent, badge_id).body)
    normalize(lake, LAST_NIGHT, [detail(org, reused, badge_id)])
    last_night = constraint_rows(lake, LAST_NIGHT, reused, "BADGE")

    # Tonight the only fetched detail of the badge says nothing of its badge-level rows.
    normalize(
        lake,
        TONIGHT,
        [
            detail(org, silent, badge_id, body=silent_body),
            detail(org, reused, badge_id, reused_from=LAST_NIGHT),
        ],
    )
    assert last_night
    assert constraint_rows(lake, TONIGHT, reused, "BADGE") == last_night
    assert constraint_rows(lake, TONIGHT, silent, "BADGE") == []

    # A silent detail fetched after one that states them leaves the stated ones in place.
    normalize(
        lake,
        TONIGHT + dt.timedelta(days=1),
        [
            detail(org, stating, badge_id),
            detail(org, silent, badge_id, body=silent_body),
            detail(org, reused, badge_id, reused_from=TONIGHT),
        ],
    )
    next_night = TONIGHT + dt.timedelta(days=1)
    stated = constraint_rows(lake, next_night, stating, "BADGE")
    assert stated and constraint_rows(lake, next_night, reused, "BADGE") == stated
