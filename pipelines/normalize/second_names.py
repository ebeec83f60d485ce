"""The second names of a column: the keys read only when the first ones are null.

A `Field` reads the first non-null of its keys (aliases across endpoints), then its ISO
twins. A later key the vendor sent as well stays in `extra` unless it says the same (a
twin restating the instant, see `pipelines.normalize.reader`): beside a column that holds
a value, such a key is a **disagreement**, which the drift report counts by path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pipelines.lake.tables import (
    BADGE_CLAIMS,
    BADGE_CONSTRAINTS,
    BADGE_EARNS,
    BADGE_ISSUALS,
    BADGES,
    CUSTOMER_BADGE_CONSTRAINTS,
    CUSTOMER_BADGE_DETAILS,
    CUSTOMER_BADGES,
)
from pipelines.normalize import constraints as c
from pipelines.normalize import mappings as m
from pipelines.normalize.fields import Converted, Field

# the column it would feed, whether it is an ISO twin, and the column's converter
SecondName = tuple[str, bool, Callable[[Any], Converted]]


def second_names(fields: Iterable[Field], *prefixes: str) -> dict[str, SecondName]:
    """extra key -> (column, is a twin) of every key of `fields` after the first."""
    return {
        f"{prefix}{key}": (field.column, key in field.iso_keys, field.convert)
        for prefix in prefixes or ("",)
        for field in fields
        for key in field.candidates[1:]
    }


def _expiries(earned: tuple[Field, ...], issued: tuple[Field, ...]) -> dict[str, SecondName]:
    return {
        **second_names(earned, "earnedBadgeExpiry.", "earnExpiry."),
        **second_names(issued, "issuedBadgeExpiry.", "issueExpiry."),
    }


_CONSTRAINT = {
    **second_names(c.COMMON_FIELDS),
    **second_names(c.CYCLE_FIELDS, "currentCycle.", "fixedWindowCycle."),
}
SECOND_NAMES: dict[str, dict[str, SecondName]] = {
    BADGES.name: {
        **second_names(m.BADGE_FIELDS),
        **_expiries(m.EARNED_EXPIRY_FIELDS, m.ISSUED_EXPIRY_FIELDS),
    },
    BADGE_CLAIMS.name: second_names(m.CLAIM_FIELDS),
    CUSTOMER_BADGES.name: second_names(m.CUSTOMER_BADGE_FIELDS),
    CUSTOMER_BADGE_DETAILS.name: {
        **second_names(m.DETAIL_FIELDS),
        **_expiries(m.EARN_EXPIRY_FIELDS, m.ISSUE_EXPIRY_FIELDS),
    },
    BADGE_ISSUALS.name: second_names(m.ISSUAL_FIELDS),
    BADGE_EARNS.name: second_names(m.EARN_FIELDS),
    BADGE_CONSTRAINTS.name: _CONSTRAINT,
    CUSTOMER_BADGE_CONSTRAINTS.name: _CONSTRAINT,
}
