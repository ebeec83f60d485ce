"""Generated relations and histories: who relates to which badge, issuals and earns."""

from __future__ import annotations

import random

from pipelines.sandbox.model import (
    DAY,
    SECOND,
    Badge,
    Customer,
    Earn,
    Issual,
    PairHistory,
    would_exceed,
)

YEAR = 365 * DAY
PROGRAMS = ("469", "626", "626_TransactionAdd", "469_checkin", "123456789", "SUMMER-2025")


def hex_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def relations_for(
    rng: random.Random, people: list[Customer], badge_list: list[Badge]
) -> dict[str, list[str]]:
    ids = [b.badge_id for b in badge_list]
    relations = {}
    for position, customer in enumerate(people):
        size = len(ids) if _is_heavy(position) else rng.randint(min(2, len(ids)), min(12, len(ids)))
        relations[customer.customer_id] = rng.sample(ids, size)
    return relations


def _is_heavy(position: int) -> bool:
    """Every 40th customer relates to every badge and earns most of them: long lists."""
    return position % 40 == 0


def _window(badge: Badge, now_us: int) -> tuple[int, int]:
    """[lo, hi) in which this badge's earns may happen: live, within the last year."""
    return max(badge.starts_us, now_us - YEAR), min(badge.expires_us, now_us)


def issual_histories(
    rng: random.Random, relations: dict[str, list[str]], badges: dict[str, Badge], now_us: int
) -> dict[tuple[str, str], PairHistory]:
    """Issuals at a steady pace over the last year: each instant is uniform over the year,
    and one before the badge was created never happened."""
    histories: dict[tuple[str, str], PairHistory] = {}
    for position, (customer_id, badge_ids) in enumerate(relations.items()):
        for badge_id in badge_ids:
            badge = badges[badge_id]
            roll = 0.5 if _is_heavy(position) else rng.random()
            count = (
                (2 if roll < 0.1 else 1 if roll < 0.9 else 0)
                if badge.earn_type == "EARN"
                else (1 if roll < 0.2 else 0)
            )
            history = PairHistory()
            for _ in range(count):
                issual = _issual(rng, customer_id, badge, now_us - YEAR, now_us, now_us)
                if issual.issued_us >= badge.created_us:  # a young badge has had less time
                    history.issuals.append(issual)
            history.issuals.sort(key=lambda i: (i.issued_us, i.issue_id))
            histories[(customer_id, badge_id)] = history
    return histories


def _issual(
    rng: random.Random, customer_id: str, badge: Badge, lo: int, hi: int, now_us: int
) -> Issual:
    issued = rng.randrange(lo, max(hi, lo + 1))
    expiry = badge.issued_expiry
    expires = expiry.expires_at(issued, badge.expires_us) if expiry else None
    revoked = rng.randrange(issued, max(now_us, issued + 1)) if rng.random() < 0.1 else None
    status = "REVOKED" if revoked else "EXPIRED" if expires and expires <= now_us else "ACTIVE"
    return Issual(
        issue_id=hex_id(rng),
        customer_id=customer_id,
        badge_id=badge.badge_id,
        issued_us=issued,
        status=status,
        expires_us=expires,
        owner_type=rng.choice(badge.owners),
        owner_reference_id=rng.choice(PROGRAMS),
        revoked_us=revoked,
        event_us=issued - rng.randrange(0, 3600) * SECOND,
    )


def add_earns(
    rng: random.Random,
    relations: dict[str, list[str]],
    badges: dict[str, Badge],
    histories: dict[tuple[str, str], PairHistory],
    now_us: int,
) -> None:
    """Draws candidate earns, then accepts them in time order while no constraint breaks.

    A candidate's instant is uniform over the badge's live span (as a steady program earns
    it, day after day); an EARN badge's candidates before the pair's first issual are
    dropped rather than squeezed after it, which would pile earns up before `now_us`."""
    candidates = []
    for position, (customer_id, badge_ids) in enumerate(relations.items()):
        heavy = _is_heavy(position)
        for badge_id in badge_ids:
            badge, history = badges[badge_id], histories[(customer_id, badge_id)]
            if badge.earn_type == "EARN" and not history.issuals:
                continue
            floor = history.issuals[0].issued_us if badge.earn_type == "EARN" else 0
            lo, hi = _window(badge, now_us)
            count = rng.randint(2, 6) if heavy else rng.choice((0, 0, 0, 1, 1, 1, 2, 2, 3, 5))
            if hi <= lo:
                continue
            times = [rng.randrange(lo, hi) for _ in range(count)]
            candidates += [(t, customer_id, badge_id) for t in times if t >= floor]
    badge_times: dict[str, list[int]] = {}
    for earned_us, customer_id, badge_id in sorted(candidates):
        badge, history = badges[badge_id], histories[(customer_id, badge_id)]
        times = badge_times.setdefault(badge_id, [])
        pair_times = history.earn_times
        if any(
            would_exceed(c, pair_times if c.level == "CUSTOMER" else times, earned_us)
            for c in badge.constraints
        ):
            continue
        times.append(earned_us)
        history.earns.append(_earn(rng, customer_id, badge, history, earned_us, now_us))


def _earn(
    rng: random.Random,
    customer_id: str,
    badge: Badge,
    history: PairHistory,
    earned_us: int,
    now_us: int,
) -> Earn:
    expires = badge.earned_expiry.expires_at(earned_us, badge.expires_us)
    revoked = rng.random() < 0.05
    status = "REVOKED" if revoked else "EXPIRED" if expires and expires <= now_us else "ACTIVE"
    issual = next((i for i in reversed(history.issuals) if i.issued_us <= earned_us), None)
    return Earn(
        earn_id=hex_id(rng),
        customer_id=customer_id,
        badge_id=badge.badge_id,
        earned_us=earned_us,
        event_us=earned_us - rng.randrange(0, 7200) * SECOND,
        expires_us=expires,
        status=status,
        issue_id=issual.issue_id if issual and badge.earn_type == "EARN" else None,
        owner_type=issual.owner_type if issual else rng.choice(badge.owners),
        owner_reference_id=rng.choice(PROGRAMS),
    )
