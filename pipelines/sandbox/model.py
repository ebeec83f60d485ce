"""The sandbox's data model: plain records plus the constraint arithmetic.

All instants are integer microseconds since the epoch (UTC). Window units are fixed
lengths: a day is 86 400 s, a week 7 days, a month 30 days.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

SECOND = 1_000_000
DAY = 86_400 * SECOND
UNIT_US = {"DAYS": DAY, "WEEKS": 7 * DAY, "MONTHS": 30 * DAY}
UNITS = ("DAYS", "WEEKS", "MONTHS")


@dataclass(frozen=True)
class Customer:
    customer_id: str
    email: str
    mobile: str
    external_id: str
    card_number: str

    def identifier(self, identifier_type: str) -> str:
        """The customer's value for an identifier type (`id` is the customer id)."""
        return {
            "id": self.customer_id,
            "email": self.email,
            "mobile": self.mobile,
            "externalId": self.external_id,
            "cardNumber": self.card_number,
        }[identifier_type]


@dataclass(frozen=True)
class BadgeGroup:
    group_id: str
    name: str
    rank: int


@dataclass
class Window:
    """One limit of a constraint: at most `max_earn_limit` earns per `length` `unit`s."""

    unit: str | None = None
    length: int | None = None
    max_earn_limit: int | None = None


@dataclass
class Constraint:
    """A constraint object; `level` is the array it lives in, `raw_type` its constraintType."""

    level: str  # CUSTOMER | BADGE
    kind: str  # FIXED_VALUE | FIXED_WINDOW | ROLLING_WINDOW | NO_LIMIT
    raw_type: str
    windows: list[Window]
    reference_id: str | None = None
    starts_us: int | None = None
    ends_us: int | None = None
    start_day_of_week: str | None = None

    @property
    def is_paired_rolling(self) -> bool:
        """Customer rolling constraints carry up to three (unit, length, max) pairs at once."""
        return self.raw_type == "CUSTOMER_BADGE_ROLLING_WINDOW"


@dataclass(frozen=True)
class Claim:
    owner_type: str
    reference_id: str
    is_active: bool


@dataclass
class Expiry:
    expiry_type: str  # RELATIVE | ABSOLUTE | NEVER
    unit: str | None = None
    value: int | None = None
    mode: str | None = None  # FIXED_DATE | WITH_BADGE_META (ABSOLUTE only)
    expires_us: int | None = None

    def expires_at(self, start_us: int, badge_expires_us: int) -> int | None:
        """When something started at `start_us` expires under this rule."""
        if self.expiry_type == "RELATIVE" and self.unit and self.value:
            return start_us + self.value * UNIT_US[self.unit]
        if self.expiry_type == "ABSOLUTE":
            return badge_expires_us if self.mode == "WITH_BADGE_META" else self.expires_us
        return None


@dataclass
class Badge:
    badge_id: str
    numeric_id: int | None
    org_id: int
    name: str
    description: str | None
    earn_type: str  # EARN | ISSUE_EARN
    starts_us: int
    expires_us: int
    group_id: str | None
    rank: int | None
    active: bool
    created_us: int
    created_by: int
    updated_us: int
    updated_by: int
    earned_expiry: Expiry
    issued_expiry: Expiry | None
    owners: list[str]
    claims: list[Claim]
    custom_fields: dict[str, str]
    images: list[dict]
    tags: list[dict]
    benefits: list[dict]
    customer_constraints: list[Constraint]
    badge_constraints: list[Constraint]
    epoch_style: str = "frac9"  # frac9 | int | short: how this badge's epochs are written
    iso_offset: bool = False  # ISO twins in +05:30 instead of Z
    detail_ms: bool = False  # detail startsOn/expiresOn in milliseconds (broken ISO twin)

    def status(self, at_us: int) -> str:
        if self.starts_us > at_us:
            return "UPCOMING"
        if self.expires_us <= at_us:
            return "EXPIRED"
        return "LIVE"

    @property
    def constraints(self) -> list[Constraint]:
        return [*self.customer_constraints, *self.badge_constraints]


@dataclass
class Issual:
    issue_id: str
    customer_id: str
    badge_id: str
    issued_us: int
    status: str  # ACTIVE | REVOKED | EXPIRED
    expires_us: int | None
    owner_type: str
    owner_reference_id: str
    revoked_us: int | None
    event_us: int


@dataclass
class Earn:
    earn_id: str
    customer_id: str
    badge_id: str
    earned_us: int
    event_us: int
    expires_us: int | None
    status: str  # ACTIVE | EXPIRED | REVOKED
    issue_id: str | None
    owner_type: str
    owner_reference_id: str


@dataclass
class WindowCount:
    """An earn count against one window at an instant, for the detail statistics."""

    window: Window
    count: int | None


def fixed_cycle(constraint: Constraint, window: Window, at_us: int) -> tuple[int, int]:
    """The fixed-window cycle [start, end) containing `at_us` (clamped to the validity)."""
    length = (window.length or 1) * UNIT_US[window.unit or "DAYS"]
    origin = constraint.starts_us or 0
    at = max(at_us, origin)
    if constraint.ends_us is not None:
        at = min(at, constraint.ends_us - 1)
    start = origin + ((at - origin) // length) * length
    return start, start + length


def cycle_status(constraint: Constraint, at_us: int) -> str:
    if constraint.starts_us is not None and at_us < constraint.starts_us:
        return "UPCOMING"
    if constraint.ends_us is not None and at_us >= constraint.ends_us:
        return "EXPIRED"
    return "ACTIVE"


def count_against(constraint: Constraint, window: Window, times: list[int], at_us: int) -> int:
    """Earns among sorted `times` that count against `window` at `at_us`.

    Every earn counts, whatever its status: a fixed value counts them all, a rolling
    window the ones in (at - length, at], a fixed window the ones in the cycle of `at`.
    """
    if constraint.kind == "ROLLING_WINDOW":
        length = (window.length or 0) * UNIT_US[window.unit or "DAYS"]
        return bisect_right(times, at_us) - bisect_right(times, at_us - length)
    if constraint.kind == "FIXED_WINDOW":
        start, end = fixed_cycle(constraint, window, at_us)
        return bisect_left(times, end) - bisect_left(times, start)
    return len(times)


def would_exceed(constraint: Constraint, times: list[int], new_us: int) -> bool:
    """Whether adding an earn at `new_us` to sorted `times` breaks any window's limit."""
    if constraint.kind == "NO_LIMIT":
        return False
    merged = sorted([*times, new_us])
    for window in constraint.windows:
        limit = window.max_earn_limit
        if limit is None:
            continue
        if constraint.kind != "ROLLING_WINDOW":
            if count_against(constraint, window, merged, new_us) > limit:
                return True
            continue
        # A rolling window's worst count ends at an earn; only ends in [new, new + length) change.
        length = (window.length or 0) * UNIT_US[window.unit or "DAYS"]
        first, last = bisect_left(merged, new_us), bisect_left(merged, new_us + length)
        for end_us in merged[first:last]:
            if count_against(constraint, window, merged, end_us) > limit:
                return True
    return False


def window_counts(constraint: Constraint, times: list[int], at_us: int) -> list[WindowCount]:
    """The current count against each window of the constraint (None for NO_LIMIT)."""
    if constraint.kind == "NO_LIMIT":
        return [WindowCount(w, None) for w in constraint.windows]
    return [WindowCount(w, count_against(constraint, w, times, at_us)) for w in constraint.windows]


def under_limits(constraint: Constraint, times: list[int], at_us: int) -> bool:
    return all(
        c.window.max_earn_limit is None or (c.count or 0) < c.window.max_earn_limit
        for c in window_counts(constraint, times, at_us)
    )


@dataclass
class PairHistory:
    """Issuals and earns of one customer x badge pair, earns sorted by time."""

    issuals: list[Issual] = field(default_factory=list)
    earns: list[Earn] = field(default_factory=list)

    @property
    def earn_times(self) -> list[int]:
        return [e.earned_us for e in self.earns]
