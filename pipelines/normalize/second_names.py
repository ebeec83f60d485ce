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


def second_names(fields: Iterable[Field], *prefixes: str, first: int = 1) -> dict[str, SecondName]:
    """extra key -> (column, is a twin, converter) of every key of `fields` after the
    first (from the `first`-th: 0 names every key)."""
    return {
        f"{prefix}{key}": (field.column, key in field.iso_keys, field.convert)
        for prefix in prefixes or ("",)
        for field in fields
        for key in field.candidates[first:]
    }


# The fields each table's object is read with, and the nested objects (prefixes) they are
# read in: the fields whose keys each feed one column, whatever the object's kind.
_EXPIRIES = {
    "earned": ("earnedBadgeExpiry.", "earnExpiry."),
    "issued": ("issuedBadgeExpiry.", "issueExpiry."),
}
FIELDS_OF: dict[str, tuple[tuple[tuple[Field, ...], tuple[str, ...]], ...]] = {
    BADGES.name: (
        (m.BADGE_FIELDS, ()),
        (m.EARNED_EXPIRY_FIELDS, _EXPIRIES["earned"]),
        (m.ISSUED_EXPIRY_FIELDS, _EXPIRIES["issued"]),
    ),
    BADGE_CLAIMS.name: ((m.CLAIM_FIELDS, ()),),
    CUSTOMER_BADGES.name: ((m.CUSTOMER_BADGE_FIELDS, ()),),
    CUSTOMER_BADGE_DETAILS.name: (
        (m.DETAIL_FIELDS, ()),
        (m.EARN_EXPIRY_FIELDS, _EXPIRIES["earned"]),
        (m.ISSUE_EXPIRY_FIELDS, _EXPIRIES["issued"]),
        ((m.ISSUED_COUNT,), ("issualDetails.",)),
        ((m.EARN_COUNT,), ("earnDetails.",)),
    ),
    BADGE_ISSUALS.name: ((m.ISSUAL_FIELDS, ()),),
    BADGE_EARNS.name: ((m.EARN_FIELDS, ()),),
    BADGE_CONSTRAINTS.name: (
        (c.COMMON_FIELDS, ()),
        (c.CYCLE_FIELDS, ("currentCycle.", "fixedWindowCycle.")),
    ),
}
FIELDS_OF[CUSTOMER_BADGE_CONSTRAINTS.name] = FIELDS_OF[BADGE_CONSTRAINTS.name]


def names_of(table: str, first: int = 1) -> dict[str, SecondName]:
    """`second_names` of every field `table`'s object is read with."""
    return {
        name: second
        for fields, prefixes in FIELDS_OF.get(table, ())
        for name, second in second_names(fields, *prefixes, first=first).items()
    }


SECOND_NAMES: dict[str, dict[str, SecondName]] = {table: names_of(table) for table in FIELDS_OF}
