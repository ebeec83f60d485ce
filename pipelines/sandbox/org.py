"""`Org`: the sandbox's own truth, the answers every endpoint derives from."""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterable
from pathlib import Path

from pipelines.client.endpoints import LIST_TYPES, LOOKUP_TYPES
from pipelines.sandbox.error_answers import SandboxApiError
from pipelines.sandbox.model import (
    SECOND,
    Badge,
    BadgeGroup,
    Constraint,
    Customer,
    Earn,
    Issual,
    PairHistory,
    under_limits,
    would_exceed,
)

Pair = tuple[str, str]


def day_start_us(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()) * SECOND


class Org:
    """Customers, badges and every customer x badge history, plus the rules over them.

    Mutate through the methods (they keep derived answers fresh); after editing the
    attributes directly, call `changed()`.
    """

    def __init__(
        self,
        *,
        org_id: int,
        as_of: dt.date,
        customers: list[Customer],
        groups: dict[str, BadgeGroup],
        badges: dict[str, Badge],
        relations: dict[str, list[str]],
        histories: dict[Pair, PairHistory],
        seed: int,
    ) -> None:
        self.org_id = org_id
        self.as_of = as_of
        self.as_of_us = day_start_us(as_of)
        self.customers = customers
        self.groups = groups
        self.badges = badges
        self.relations = relations
        self.histories = histories
        self.version = 0
        self._id_rng = random.Random(f"sandbox-mutations-{seed}")
        self._cache_version = -1
        self._cache: dict[object, object] = {}

    # -- bookkeeping -------------------------------------------------------------------

    def changed(self) -> None:
        """Marks the data as changed: rendered bodies and derived answers are rebuilt."""
        self.version += 1

    def _cached(self, key: object, build):  # type: ignore[no-untyped-def]
        if self._cache_version != self.version:
            self._cache.clear()
            self._cache_version = self.version
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def new_id(self) -> str:
        return f"{self._id_rng.getrandbits(96):024x}"

    # -- lookups -----------------------------------------------------------------------

    def find_customer(self, value: str, identifier_type: str = "id") -> Customer | None:
        """The customer whose `identifier_type` value is `value`, if any."""
        index = self._cached(("identifiers", identifier_type), lambda: self._index(identifier_type))
        return index.get(value)

    def _index(self, identifier_type: str) -> dict[str, Customer]:
        return {c.identifier(identifier_type): c for c in self.customers}

    def history(self, customer_id: str, badge_id: str) -> PairHistory:
        return self.histories.get((customer_id, badge_id)) or PairHistory()

    def issuals(self, customer_id: str, badge_id: str) -> list[Issual]:
        return list(self.history(customer_id, badge_id).issuals)

    def earns(self, customer_id: str, badge_id: str) -> list[Earn]:
        return list(self.history(customer_id, badge_id).earns)

    def badge_earn_times(self, badge_id: str) -> list[int]:
        """Sorted earn instants of a badge over all customers."""
        by_badge = self._cached("badge_earn_times", self._all_badge_earn_times)
        return by_badge.get(badge_id, [])

    def _all_badge_earn_times(self) -> dict[str, list[int]]:
        by_badge: dict[str, list[int]] = {}
        for (_, badge_id), history in self.histories.items():
            by_badge.setdefault(badge_id, []).extend(history.earn_times)
        return {badge_id: sorted(times) for badge_id, times in by_badge.items()}

    def badge_totals(self, badge_id: str) -> tuple[int, int]:
        """(issued count, earned count) of a badge: ACTIVE issuals and all earns, over customers."""
        totals = self._cached("badge_totals", self._all_badge_totals)
        return totals.get(badge_id, (0, 0))

    def _all_badge_totals(self) -> dict[str, tuple[int, int]]:
        totals: dict[str, tuple[int, int]] = {}
        for (_, badge_id), history in self.histories.items():
            issued, earned = totals.get(badge_id, (0, 0))
            active = sum(1 for issual in history.issuals if issual.status == "ACTIVE")
            totals[badge_id] = (issued + active, earned + len(history.earns))
        return totals

    def constraint_times(
        self, constraint: Constraint, customer_id: str, badge_id: str
    ) -> list[int]:
        """The earn instants a constraint counts: the pair's (CUSTOMER) or the badge's (BADGE)."""
        if constraint.level == "CUSTOMER":
            return self.history(customer_id, badge_id).earn_times
        return self.badge_earn_times(badge_id)

    def is_under_limits(self, customer_id: str, badge_id: str) -> bool:
        badge = self.badges[badge_id]
        return all(
            under_limits(c, self.constraint_times(c, customer_id, badge_id), self.as_of_us)
            for c in badge.constraints
        )

    # -- the four lists ----------------------------------------------------------------

    def list_entries(
        self, customer_id: str, list_type: str, include_expired: bool = True
    ) -> list[Badge]:
        """The badges of one customer list, in the API's default order (newest first)."""
        key = ("list", customer_id, list_type, include_expired)
        return self._cached(key, lambda: self._build_list(customer_id, list_type, include_expired))

    def _build_list(self, customer_id: str, list_type: str, include_expired: bool) -> list[Badge]:
        if list_type not in LIST_TYPES:
            raise ValueError(f"unknown list type {list_type!r}")
        entries = [
            self.badges[badge_id]
            for badge_id in self.relations.get(customer_id, [])
            if self._belongs(customer_id, badge_id, list_type)
        ]
        if not include_expired:
            entries = [b for b in entries if b.status(self.as_of_us) != "EXPIRED"]
        return sorted(entries, key=lambda b: (-b.created_us, b.badge_id))

    def _belongs(self, customer_id: str, badge_id: str, list_type: str) -> bool:
        badge = self.badges[badge_id]
        history = self.history(customer_id, badge_id)
        if list_type == "EARNED":
            return any(e.status == "ACTIVE" for e in history.earns)
        if list_type == "EXPIRED":
            return bool(history.earns) and all(e.status == "EXPIRED" for e in history.earns)
        if badge.status(self.as_of_us) != "LIVE":
            return False
        if list_type == "AVAILABLE":
            return badge.earn_type == "ISSUE_EARN" and self.is_under_limits(customer_id, badge_id)
        has_active_issual = any(i.status == "ACTIVE" for i in history.issuals)
        return (
            badge.earn_type == "EARN"
            and has_active_issual
            and self.is_under_limits(customer_id, badge_id)
        )

    def listed_pairs(self) -> set[Pair]:
        """(customer_id, badge_id) of every entry of the four lists (includeExpired=true)."""
        return {
            (customer.customer_id, badge.badge_id)
            for customer in self.customers
            for list_type in LIST_TYPES
            for badge in self.list_entries(customer.customer_id, list_type)
        }

    def listed_badge_ids(self) -> set[str]:
        return {badge_id for _, badge_id in self.listed_pairs()}

    def expected_row_counts(self) -> dict[str, int]:
        """Rows a correct pipeline loads per contract table for a full snapshot."""
        pairs = self.listed_pairs()
        badges = [self.badges[b] for b in sorted(self.listed_badge_ids())]
        pair_badges = [self.badges[b] for _, b in pairs]
        return {
            "badges": len(badges),
            "badge_owners": sum(len(b.owners) for b in badges),
            "badge_claims": sum(len(b.claims) for b in badges),
            "badge_custom_fields": sum(len(b.custom_fields) for b in badges),
            "badge_constraints": sum(_constraint_rows(b.constraints) for b in badges),
            "customer_badges": sum(
                len(self.list_entries(c.customer_id, t)) for c in self.customers for t in LIST_TYPES
            ),
            "customer_badge_details": len(pairs),
            "customer_badge_constraints": sum(_constraint_rows(b.constraints) for b in pair_badges),
            "badge_issuals": sum(len(self.history(c, b).issuals) for c, b in pairs),
            "badge_earns": sum(len(self.history(c, b).earns) for c, b in pairs),
        }

    # -- mutations ---------------------------------------------------------------------

    def add_earn(
        self,
        customer_id: str,
        badge_id: str,
        earned_us: int | None = None,
        owner_type: str = "Loyalty",
        owner_reference_id: str = "sandbox-program",
    ) -> Earn:
        """Records an earn (default: one second before as_of) unless a constraint forbids it."""
        if self.find_customer(customer_id) is None or badge_id not in self.badges:
            raise SandboxApiError(404, 1026, "Customer or badge not found")
        badge = self.badges[badge_id]
        at_us = self.as_of_us - SECOND if earned_us is None else earned_us
        for constraint in badge.constraints:
            if would_exceed(
                constraint, self.constraint_times(constraint, customer_id, badge_id), at_us
            ):
                raise SandboxApiError(400, 400, "Earn limit reached for the badge")
        history = self.histories.setdefault((customer_id, badge_id), PairHistory())
        issual = next((i for i in reversed(history.issuals) if i.status == "ACTIVE"), None)
        expires_us = badge.earned_expiry.expires_at(at_us, badge.expires_us)
        earn = Earn(
            earn_id=self.new_id(),
            customer_id=customer_id,
            badge_id=badge_id,
            earned_us=at_us,
            event_us=at_us - 60 * SECOND,
            expires_us=expires_us,
            status="EXPIRED"
            if expires_us is not None and expires_us <= self.as_of_us
            else "ACTIVE",
            issue_id=issual.issue_id if issual and badge.earn_type == "EARN" else None,
            owner_type=owner_type,
            owner_reference_id=owner_reference_id,
        )
        history.earns.append(earn)
        history.earns.sort(key=lambda e: (e.earned_us, e.earn_id))
        self._relate(customer_id, badge_id)
        self.changed()
        return earn

    def revoke_issual(self, customer_id: str, badge_id: str) -> Issual:
        """Revokes the pair's latest ACTIVE issual (at as_of)."""
        history = self.history(customer_id, badge_id)
        issual = next((i for i in reversed(history.issuals) if i.status == "ACTIVE"), None)
        if issual is None:
            raise SandboxApiError(400, 400, "No active issual to revoke")
        issual.status = "REVOKED"
        issual.revoked_us = self.as_of_us
        self.changed()
        return issual

    def _relate(self, customer_id: str, badge_id: str) -> None:
        related = self.relations.setdefault(customer_id, [])
        if badge_id not in related:
            related.append(badge_id)

    # -- input files -------------------------------------------------------------------

    def write_customers_csv(self, path: Path, identifier_types: bool = True) -> None:
        """Writes the customer list in the CAPILLARY_CUSTOMERS format.

        Every 5th customer (by position) is written by another identifier, cycling
        email, mobile, externalId, cardNumber; the others by id.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["customer_id", "identifier_type"] if identifier_types else ["customer_id"]
            )
            for row in self.customer_rows(identifier_types):
                writer.writerow(row)

    def customer_rows(self, identifier_types: bool = True) -> Iterable[list[str]]:
        for position, customer in enumerate(self.customers):
            if not identifier_types:
                yield [customer.customer_id]
                continue
            kind = LOOKUP_TYPES[(position // 5) % 4] if position % 5 == 4 else "id"
            yield [customer.identifier(kind), kind]


def _constraint_rows(constraints: list[Constraint]) -> int:
    return sum(len(c.windows) for c in constraints)
