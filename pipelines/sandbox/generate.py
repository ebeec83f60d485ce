"""Deterministic generator of a sandbox organisation (see the package docstring's rules)."""

from __future__ import annotations

import datetime as dt
import random

from pipelines.sandbox.constraints_gen import badge_constraints, customer_constraints
from pipelines.sandbox.history_gen import (
    PROGRAMS,
    add_earns,
    hex_id,
    issual_histories,
    relations_for,
)
from pipelines.sandbox.model import (
    DAY,
    SECOND,
    Badge,
    BadgeGroup,
    Claim,
    Customer,
    Expiry,
)
from pipelines.sandbox.org import Org, day_start_us

ORG_ID = 100458
OWNERS = (
    "Loyalty",
    "Milestones",
    "Audience_Campaigns",
    "Journeys",
    "Referral_Campaigns",
    "Rewards_Catalog",
    "Goodwill_Module",
    "Loyalty_Promotion",
)
GROUP_NAMES = ("Shopper Journey", "2025 Badges", "Pet Lovers", "Weekend Warriors", "Group")
WORDS = ("Gold", "Silver", "Early", "Loyal", "Happy", "Green", "Swift", "Bold", "Night", "Pet")
THINGS = ("Shopper", "Walker", "Reviewer", "Explorer", "Saver", "Diner", "Runner", "Friend")
CUSTOM_FIELDS = {
    "Badge use": ("uses", "promo"),
    "CF 04": ("1234", "99"),
    "Priority": ("1", "2", "3"),
    "Category1": ("true", "false"),
    "Date": ("2025-01-18 14:39:09", "2025-01-18T09:09:09Z"),
    "Terms and Condition": ("<Enter your terms and condition here>",),
    "CF 09": ("null",),
}
STATUS_BY_POSITION = "LLLULLELLE"  # position % 10: every status appears from 10 badges on


def generate_org(
    customers: int = 300, badges: int = 80, seed: int = 7, as_of: dt.date | None = None
) -> Org:
    """Builds the organisation for (customers, badges, seed, as_of); as_of defaults to today UTC."""
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    rng = random.Random(seed)
    groups, badge_list = _catalogue(rng, badges, day_start_us(as_of), customers)
    people = [_customer(rng, i) for i in range(customers)]
    return _populated(rng, as_of, groups, badge_list, people, seed)


def generate_org_part(
    customers: int,
    first: int,
    count: int,
    badges: int = 80,
    seed: int = 7,
    as_of: dt.date | None = None,
) -> Org:
    """Customers `first` .. `first + count - 1` of an org of `customers`, built on its own.

    The badges and groups are those of `generate_org(customers, badges, seed, as_of)`; the
    part's customers, relations and histories come from a generator of the part's own, so
    parts of one org can be built in parallel and their customer ids never collide.
    Badge-level constraints count only the part's own earns.
    """
    if not 0 <= first < first + count <= customers:
        raise ValueError(f"part {first}..{first + count - 1} is outside an org of {customers}")
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    groups, badge_list = _catalogue(random.Random(seed), badges, day_start_us(as_of), customers)
    rng = random.Random(f"{seed}-part-{first}")
    people = [_customer(rng, first + i) for i in range(count)]
    return _populated(rng, as_of, groups, badge_list, people, seed)


def _catalogue(
    rng: random.Random, badges: int, now_us: int, customers: int
) -> tuple[list[BadgeGroup], list[Badge]]:
    groups = _groups(rng, max(2, min(5, badges // 12)))
    return groups, [_badge(rng, i, now_us, customers, groups) for i in range(badges)]


def _populated(
    rng: random.Random,
    as_of: dt.date,
    groups: list[BadgeGroup],
    badge_list: list[Badge],
    people: list[Customer],
    seed: int,
) -> Org:
    """The org of these badges and customers, with relations and histories drawn from `rng`."""
    now_us = day_start_us(as_of)
    relations = relations_for(rng, people, badge_list)
    by_id = {b.badge_id: b for b in badge_list}
    histories = issual_histories(rng, relations, by_id, now_us)
    add_earns(rng, relations, by_id, histories, now_us)
    return Org(
        org_id=ORG_ID,
        as_of=as_of,
        customers=people,
        groups={g.group_id: g for g in groups},
        badges=by_id,
        relations=relations,
        histories=histories,
        seed=seed,
    )


def _groups(rng: random.Random, count: int) -> list[BadgeGroup]:
    return [BadgeGroup(hex_id(rng), GROUP_NAMES[i], i + 1) for i in range(count)]


def _customer(rng: random.Random, position: int) -> Customer:
    customer_id = str(60_000_000 + position * 1009 + rng.randrange(1000))
    return Customer(
        customer_id=customer_id,
        email=f"member{position}.{rng.getrandbits(20):05x}@example.com",
        mobile=f"91{rng.randrange(7_000_000_000, 9_999_999_999)}",
        external_id=f"EXT-{position:06d}",
        card_number=f"{rng.randrange(4_000_000_000_000_000, 4_999_999_999_999_999)}",
    )


def _instant(rng: random.Random, base_us: int, style: str) -> int:
    """`base_us` moved to a random second of its day, plus a fraction fitting `style`."""
    whole = base_us - base_us % DAY + rng.randrange(86_400) * SECOND
    if style == "int":
        return whole
    if style == "short":
        return whole + rng.randrange(0, 1000) * 1000
    return whole + rng.randrange(0, SECOND)


def _dates(rng: random.Random, position: int, now_us: int) -> tuple[int, int]:
    status = STATUS_BY_POSITION[position % len(STATUS_BY_POSITION)]
    if status == "U":
        starts = now_us + rng.randrange(5, 90) * DAY
        return starts, starts + rng.randrange(60, 400) * DAY
    if status == "E":
        starts = now_us - rng.randrange(300, 700) * DAY
        return starts, now_us - rng.randrange(2, 200) * DAY
    return now_us - rng.randrange(30, 700) * DAY, now_us + rng.randrange(10, 900) * DAY


def _expiry(rng: random.Random, now_us: int, allow_none: bool) -> Expiry | None:
    roll = rng.random()
    if allow_none and roll < 0.15:
        return None
    if roll < 0.55:
        return Expiry(
            "RELATIVE", unit=rng.choice(("DAYS", "WEEKS", "MONTHS")), value=rng.randint(1, 8)
        )
    if roll < 0.7:
        return Expiry("ABSOLUTE", mode="WITH_BADGE_META")
    if roll < 0.88:
        return Expiry(
            "ABSOLUTE", mode="FIXED_DATE", expires_us=now_us + rng.randrange(-90, 500) * DAY
        )
    return Expiry("NEVER")


def _badge(
    rng: random.Random, position: int, now_us: int, customers: int, groups: list[BadgeGroup]
) -> Badge:
    style = rng.choice(("frac9", "int", "short"))
    starts, expires = _dates(rng, position, now_us)
    starts, expires = _instant(rng, starts, style), _instant(rng, expires, style)
    created = _instant(rng, min(starts, now_us) - rng.randrange(1, 60) * DAY, style)
    updated = min(_instant(rng, created + rng.randrange(0, 30) * DAY, style), now_us - SECOND)
    group = rng.choice(groups) if rng.random() < 0.55 else None
    owners = rng.sample(OWNERS, rng.randint(1, 4))
    return Badge(
        badge_id=hex_id(rng),
        numeric_id=position + 1 if rng.random() < 0.8 else None,
        org_id=ORG_ID,
        name=f"{rng.choice(WORDS)} {rng.choice(THINGS)} {position + 1}",
        description=rng.choice(
            (None, "Make 5 transactions", "Purchase 5 pet products in 3 months")
        ),
        earn_type="ISSUE_EARN" if rng.random() < 0.45 else "EARN",
        starts_us=starts,
        expires_us=expires,
        group_id=group.group_id if group else None,
        rank=rng.randint(1, 20) if rng.random() < 0.8 else None,
        active=rng.random() < 0.85,
        created_us=created,
        created_by=75_000_000 + rng.randrange(200_000),
        updated_us=max(updated, created),
        updated_by=75_000_000 + rng.randrange(200_000),
        earned_expiry=_expiry(rng, now_us, allow_none=False) or Expiry("NEVER"),
        issued_expiry=_expiry(rng, now_us, allow_none=True),
        owners=owners,
        claims=_claims(rng, owners),
        custom_fields=_custom_fields(rng),
        images=_images(rng, position),
        tags=[{"name": "season", "value": "summer"}] if rng.random() < 0.3 else [],
        benefits=[{"benefitType": "COUPON", "seriesId": 13745}] if rng.random() < 0.2 else [],
        customer_constraints=customer_constraints(rng, position, starts, expires),
        badge_constraints=badge_constraints(rng, position, starts, expires, customers),
        epoch_style=style,
        iso_offset=rng.random() < 0.3,
        detail_ms=position % 7 == 2,
    )


def _claims(rng: random.Random, owners: list[str]) -> list[Claim]:
    if rng.random() < 0.4:
        return []
    programs = rng.sample(PROGRAMS, rng.randint(1, 3))
    return [Claim(rng.choice(owners), program, rng.random() < 0.9) for program in programs]


def _custom_fields(rng: random.Random) -> dict[str, str]:
    if rng.random() < 0.3:
        return {}
    names = rng.sample(sorted(CUSTOM_FIELDS), rng.randint(1, 5))
    return {name: rng.choice(CUSTOM_FIELDS[name]) for name in names}


def _images(rng: random.Random, position: int) -> list[dict]:
    tags = rng.sample(("EARNED", "UN_EARNED"), rng.randint(0, 2))
    return [
        {
            "name": "" if tag == "EARNED" else "Initial Earn",
            "fileSvcHandle": f"{rng.getrandbits(32):08x}-sandbox",
            "url": f"https://images.example.com/badges/{position}_{tag}.png",
            "tag": tag,
        }
        for tag in tags
    ]
