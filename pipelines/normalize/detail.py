"""The customer-badge detail flattened with flat compiled fields, no ObjectReader per object.

Half of a snapshot's records are details, each with four nested objects. This path
reads them with `compiled_flat` fields and tracks only the keys a column could map
but did not ("kept"), which is exact as long as no key can be mapped from two
places; `detail_plan` checks that once per set of mappings and returns None
otherwise, and `flatten.flatten_customer_badge_detail` then takes the general
ObjectReader path. Both give the same rows, extra and warnings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from pipelines.normalize.compiled import FlatFields, compiled_flat
from pipelines.normalize.fields import Field
from pipelines.normalize.reader import extra_json, unused_keys
from pipelines.normalize.timestamps import WRONG_TYPE
from pipelines.tables import CUSTOMER_BADGE_DETAILS

TABLE = CUSTOMER_BADGE_DETAILS.name
EARN_EXPIRY_KEYS = ("earnExpiry", "earnedBadgeExpiry")
ISSUE_EXPIRY_KEYS = ("issueExpiry", "issuedBadgeExpiry")
CONSTRAINT_KEYS = ("customerConstraints", "badgeConstraints")
OWN_KEYS = ("id", *EARN_EXPIRY_KEYS, *ISSUE_EXPIRY_KEYS, "issualDetails", "earnDetails")

Nested = tuple[str, dict[str, Any], frozenset[str], list[str]]
"""(dotted prefix, nested object, keys its columns may map, those of them left unused)."""


@dataclass(frozen=True)
class DetailPlan:
    detail: FlatFields
    earn_expiry: FlatFields
    issue_expiry: FlatFields
    issued_count: FlatFields
    earn_count: FlatFields
    consumed: frozenset[str]  # every key of the detail object itself a column or table maps


_plans: dict[tuple[int, ...], tuple[tuple[Any, ...], DetailPlan | None]] = {}


def detail_plan(
    detail: tuple[Field, ...],
    earn_expiry: tuple[Field, ...],
    issue_expiry: tuple[Field, ...],
    issued_count: Field,
    earn_count: Field,
) -> DetailPlan | None:
    """The compiled mappings of a detail, or None when a key could feed two places."""
    specs = (detail, earn_expiry, issue_expiry, issued_count, earn_count)
    identity = tuple(map(id, specs))
    cached = _plans.get(identity)
    if cached is None or any(old is not new for old, new in zip(cached[0], specs, strict=True)):
        cached = _plans[identity] = (specs, _build_plan(*specs))
    return cached[1]


def _build_plan(
    detail: tuple[Field, ...],
    earn_expiry: tuple[Field, ...],
    issue_expiry: tuple[Field, ...],
    issued_count: Field,
    earn_count: Field,
) -> DetailPlan | None:
    own_keys = frozenset((*OWN_KEYS, *CONSTRAINT_KEYS))
    detail_fields = compiled_flat(detail, TABLE)
    issued = compiled_flat((issued_count,), TABLE)
    earned = compiled_flat((earn_count,), TABLE)
    if detail_fields.consumed & own_keys or "issuals" in issued.consumed:
        return None
    if "earns" in earned.consumed:
        return None
    return DetailPlan(
        detail_fields,
        compiled_flat(earn_expiry, TABLE),
        compiled_flat(issue_expiry, TABLE),
        FlatFields(issued.fill, issued.consumed | {"issuals"}),
        FlatFields(earned.fill, earned.consumed | {"earns"}),
        detail_fields.consumed | own_keys,
    )


def read_detail(
    plan: DetailPlan,
    data: dict[str, Any],
    row: dict[str, Any],
    own_id_used: bool,
    warnings: Counter[str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Fills `row` (its key columns already set) with every column and extra.

    Returns the issual and earn objects, for their own rows.
    """
    reading = _Reading(row, plan.detail.fill(data, row, warnings), warnings)
    if not own_id_used:
        reading.kept.append("id")
    reading.expiry(data, EARN_EXPIRY_KEYS, plan.earn_expiry)
    reading.expiry(data, ISSUE_EXPIRY_KEYS, plan.issue_expiry)
    issuals = reading.events(data, "issualDetails", "issuals", plan.issued_count)
    earns = reading.events(data, "earnDetails", "earns", plan.earn_count)
    extra = unused_keys(data, plan.consumed, reading.kept)
    for prefix, value, consumed, value_kept in reading.nested:
        extra.update(unused_keys(value, consumed, value_kept, prefix))
    row["extra"] = extra_json(extra)
    return issuals, earns


class _Reading:
    """One detail being read: its row, the nested objects entered and the keys kept."""

    __slots__ = ("kept", "nested", "row", "warnings")

    def __init__(self, row: dict[str, Any], kept: list[str], warnings: Counter[str]) -> None:
        self.row = row
        self.kept = kept
        self.warnings = warnings
        self.nested: list[Nested] = []

    def expiry(self, data: dict[str, Any], keys: tuple[str, ...], fields: FlatFields) -> None:
        found = self.nested_object(data, keys)
        if found is not None:
            key, value = found
            value_kept = fields.fill(value, self.row, self.warnings)
            self.nested.append((f"{key}.", value, fields.consumed, value_kept))

    def events(
        self, data: dict[str, Any], key: str, list_key: str, count: FlatFields
    ) -> list[dict[str, Any]]:
        """Reads `issualDetails`/`earnDetails`: its count into the row, its events returned."""
        found = self.nested_object(data, (key,))
        if found is None:
            return []
        value = found[1]
        value_kept = count.fill(value, self.row, self.warnings)
        self.nested.append((f"{key}.", value, count.consumed, value_kept))
        items = value.get(list_key)
        if items is None:
            return []
        if not isinstance(items, list):
            self.warnings[f"{TABLE}.{list_key}: {WRONG_TYPE}"] += 1
            value_kept.append(list_key)
            return []
        objects = [item for item in items if isinstance(item, dict)]
        if len(objects) != len(items):
            self.warnings[f"{TABLE}.{list_key}: non-object items"] += 1
            value_kept.append(list_key)
        return objects

    def nested_object(
        self, source: dict[str, Any], keys: tuple[str, ...]
    ) -> tuple[str, dict[str, Any]] | None:
        """The first non-null of `keys` when it is an object (ObjectReader.child's rule)."""
        for position, key in enumerate(keys):
            value = source.get(key)
            if value is None:
                continue
            if isinstance(value, dict):
                self.kept.extend(keys[position + 1 :])
                return key, value
            self.warnings[f"{TABLE}.{key}: {WRONG_TYPE}"] += 1
            self.kept.extend(keys[position:])
            return None
        return None
