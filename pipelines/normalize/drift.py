"""The drift report: what the vendor sent that the contract does not know.

Every key a flattener does not map lands in its row's `extra`, so drift is read from
there, row by row, after a record is flattened:

- a **new key**: a key of `extra` the contract neither maps nor knows as kept in
  `extra` on purpose (`KEPT_IN_EXTRA`, the documented keys no column holds);
- a **wrong type**: a key of `extra` that feeds a column but whose value its converter
  refuses (or an object or list the flattener reads that came as something else).

Each is counted by its source path (`customer_badge_detail.data.issualDetails.issuals[]
.fooBar`) with one sample value, truncated. Rows with the same `extra` text classify
the same, so each distinct text is classified once (bounded memo): a night pays one
hash of the text per row that has an `extra`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from pipelines.client.endpoints import DETAIL_ENDPOINT, LIST_ENDPOINT, META_ENDPOINT
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
from pipelines.normalize.constraints import (
    COMMON_FIELDS,
    CURRENT_EARN_COUNT,
    CYCLE_FIELDS,
    FIXED_WINDOW_FIELDS,
    LEVEL_OF_ARRAY,
    LIMIT_FIELDS,
    PAIRS,
)
from pipelines.normalize.fields import Converted, Field
from pipelines.normalize.mappings import (
    BADGE_FIELDS,
    CLAIM_FIELDS,
    CUSTOMER_BADGE_FIELDS,
    DETAIL_FIELDS,
    EARN_COUNT,
    EARN_EXPIRY_FIELDS,
    EARN_FIELDS,
    EARNED_EXPIRY_FIELDS,
    ISSUAL_FIELDS,
    ISSUE_EXPIRY_FIELDS,
    ISSUED_COUNT,
    ISSUED_EXPIRY_FIELDS,
)

SAMPLE_CHARS = 80
NEW_KEY, WRONG_TYPE = "new key", "wrong type"

# Documented keys (the vendor's examples, the sandbox) that no column maps: they stay in
# `extra` by design and are not drift. Promoting one to a column removes it from here.
_DESCRIPTION = ("description", "images", "tags", "benefits", "customFields", "badgeGroupName")
KEPT_IN_EXTRA: dict[str, frozenset[str]] = {
    BADGES.name: frozenset(
        {
            *_DESCRIPTION,
            "earnedBadgeExpiry.expireWithBadgeMeta",
            "issuedBadgeExpiry.expireWithBadgeMeta",
            "earnExpiry.expireWithBadgeMeta",
            "issueExpiry.expireWithBadgeMeta",
        }
    ),
    CUSTOMER_BADGES.name: frozenset(
        {
            *_DESCRIPTION,
            "ownership",
            "customerConstraints",
            "badgeConstraints",
            "earnedBadgeExpiry",
            "issuedBadgeExpiry",
            "badgeRank",
            "description",
        }
    ),
    CUSTOMER_BADGE_DETAILS.name: frozenset(
        {
            *_DESCRIPTION,
            "id",
            "owner",
            "claimedBy",
            "customFields",
            "earnExpiry.expireWithBadgeMeta",
            "issueExpiry.expireWithBadgeMeta",
            "earnedBadgeExpiry.expireWithBadgeMeta",
            "issuedBadgeExpiry.expireWithBadgeMeta",
        }
    ),
}
_CONSTRAINT_KEPT = frozenset({"constraintLevel", *FIXED_WINDOW_FIELDS[0].keys, "rollType"})


@dataclass(frozen=True)
class ObjectShape:
    """What the contract knows of the objects one table's rows come from."""

    path: str  # the source path of the object, e.g. `badge_meta.data`
    converters: dict[str, Callable[[Any], Converted]]  # extra key -> its column's converter
    containers: frozenset[str]  # objects and lists the flattener reads (in extra: wrong type)
    kept: frozenset[str]  # documented keys kept in extra
    lists: tuple[str, ...] = ()  # nested list keys: `<key>.x` is `<key>[].x` in the path

    def source_path(self, key: str) -> str:
        for nested in self.lists:
            if key.startswith(f"{nested}."):
                return f"{self.path}.{nested}[]{key[len(nested) :]}"
        return f"{self.path}.{key}"

    def classify(self, key: str, value: Any) -> str | None:
        """NEW_KEY, WRONG_TYPE, or None for a key the contract knows."""
        convert = self.converters.get(key)
        if convert is not None:
            return WRONG_TYPE if convert(value)[1] is not None else None
        if key in self.containers:
            return WRONG_TYPE
        return None if key in self.kept else NEW_KEY


def _converters(fields: Iterable[Field], prefixes: Iterable[str] = ("",)) -> dict[str, Any]:
    return {
        f"{prefix}{key}": field.convert
        for prefix in prefixes
        for field in fields
        for key in field.candidates
    }


def _expiry(aliases: tuple[str, str], fields: tuple[Field, ...]) -> dict[str, Any]:
    return _converters(fields, (f"{alias}." for alias in aliases))


_EARNED, _ISSUED = ("earnedBadgeExpiry", "earnExpiry"), ("issuedBadgeExpiry", "issueExpiry")
_META = f"{META_ENDPOINT.name}.data"
_DETAIL = f"{DETAIL_ENDPOINT.name}.data"
_CONSTRAINT_CONVERTERS = {
    **_converters(COMMON_FIELDS),
    **_converters(CYCLE_FIELDS, ("currentCycle.", "fixedWindowCycle.")),
    **_converters((*FIXED_WINDOW_FIELDS, *LIMIT_FIELDS)),
    **_converters(LIMIT_FIELDS, ("rollingWindowLimits.",)),
    **_converters(p.length for p in PAIRS),
    **_converters(p.max_earn for p in PAIRS),
    **_converters(
        (CURRENT_EARN_COUNT, *(p.current_count for p in PAIRS)),
        ("earnConstraintBlockStatistics.",),
    ),
}
_CONSTRAINT_CONTAINERS = frozenset(
    {"currentCycle", "fixedWindowCycle", "earnConstraintBlockStatistics", "rollingWindowLimits"}
)


def _constraint_shape(endpoint_path: str, array: str) -> ObjectShape:
    return ObjectShape(
        f"{endpoint_path}.{array}[]",
        _CONSTRAINT_CONVERTERS,
        _CONSTRAINT_CONTAINERS,
        _CONSTRAINT_KEPT,
        ("rollingWindowLimits",),
    )


def _constraint_shapes(endpoint_path: str) -> dict[str, ObjectShape]:
    """Shape per constraint level (the array the row came from)."""
    return {
        level: _constraint_shape(endpoint_path, array) for array, level in LEVEL_OF_ARRAY.items()
    }


_ARRAYS = frozenset(LEVEL_OF_ARRAY)
SHAPES: dict[str, ObjectShape] = {
    BADGES.name: ObjectShape(
        _META,
        {
            **_converters(BADGE_FIELDS),
            **_expiry(_EARNED, EARNED_EXPIRY_FIELDS),
            **_expiry(_ISSUED, ISSUED_EXPIRY_FIELDS),
        },
        frozenset(
            {
                *_EARNED,
                *_ISSUED,
                *_ARRAYS,
                "ownership",
                "customFields",
                "ownership.restrictedToOwners",
                "ownership.claims",
            }
        ),
        KEPT_IN_EXTRA[BADGES.name],
    ),
    BADGE_CLAIMS.name: ObjectShape(
        f"{_META}.ownership.claims[]", _converters(CLAIM_FIELDS), frozenset(), frozenset()
    ),
    CUSTOMER_BADGES.name: ObjectShape(
        f"{LIST_ENDPOINT.name}.data.badges[]",
        _converters(CUSTOMER_BADGE_FIELDS),
        frozenset(),
        KEPT_IN_EXTRA[CUSTOMER_BADGES.name],
    ),
    CUSTOMER_BADGE_DETAILS.name: ObjectShape(
        _DETAIL,
        {
            **_converters(DETAIL_FIELDS),
            **_expiry(_EARNED, EARN_EXPIRY_FIELDS),
            **_expiry(_ISSUED, ISSUE_EXPIRY_FIELDS),
            **_converters((ISSUED_COUNT,), ("issualDetails.",)),
            **_converters((EARN_COUNT,), ("earnDetails.",)),
        },
        frozenset(
            {
                *_EARNED,
                *_ISSUED,
                *_ARRAYS,
                "issualDetails",
                "earnDetails",
                "issualDetails.issuals",
                "earnDetails.earns",
            }
        ),
        KEPT_IN_EXTRA[CUSTOMER_BADGE_DETAILS.name],
    ),
    BADGE_ISSUALS.name: ObjectShape(
        f"{_DETAIL}.issualDetails.issuals[]", _converters(ISSUAL_FIELDS), frozenset(), frozenset()
    ),
    BADGE_EARNS.name: ObjectShape(
        f"{_DETAIL}.earnDetails.earns[]", _converters(EARN_FIELDS), frozenset(), frozenset()
    ),
}
CONSTRAINT_SHAPES: dict[str, dict[str, ObjectShape]] = {
    BADGE_CONSTRAINTS.name: _constraint_shapes(_META),
    CUSTOMER_BADGE_CONSTRAINTS.name: _constraint_shapes(_DETAIL),
}
TABLE_OF_PATH: dict[str, str] = {
    **{shape.path: table for table, shape in SHAPES.items()},
    **{
        shape.path: table
        for table, shapes in CONSTRAINT_SHAPES.items()
        for shape in shapes.values()
    },
}

Finding = tuple[str, str, str]  # kind, source path, sample
_MEMO_ENTRIES = 8192


def sample_of(value: Any) -> str:
    """A value's JSON text, cut to SAMPLE_CHARS."""
    try:
        text = orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        text = repr(value)
    return text if len(text) <= SAMPLE_CHARS else f"{text[: SAMPLE_CHARS - 1]}…"


def table_of_path(path: str) -> str | None:
    """The table whose rows come from the object at the start of `path`."""
    best = max((p for p in TABLE_OF_PATH if path.startswith(f"{p}.")), key=len, default=None)
    return TABLE_OF_PATH.get(best) if best else None


class DriftTracker:
    """Counts new keys and wrong types of flattened rows into the report's Counters."""

    def __init__(
        self, new_keys: Counter[str], wrong_types: Counter[str], samples: dict[str, str]
    ) -> None:
        self.new_keys, self.wrong_types, self.samples = new_keys, wrong_types, samples
        self._memo: dict[str, dict[str, list[Finding]]] = {}

    def track(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Counts the drift of `rows` of `table` (tables without a shape are skipped)."""
        shape = SHAPES.get(table)
        by_level = CONSTRAINT_SHAPES.get(table)
        if shape is None and by_level is None:
            return
        for row in rows:
            extra = row.get("extra")
            if extra is None:
                continue
            if by_level is not None:
                level = row.get("constraint_level")
                shape = by_level.get(level) if isinstance(level, str) else None
                if shape is None:
                    continue
            findings = self._findings(shape, extra)
            if findings:
                self._count(findings)

    def _findings(self, shape: ObjectShape, extra: str) -> list[Finding]:
        memo = self._memo.setdefault(shape.path, {})
        found = memo.get(extra)
        if found is None:
            if len(memo) >= _MEMO_ENTRIES:
                memo.clear()
            found = memo[extra] = _classify(shape, extra)
        return found

    def _count(self, findings: list[Finding]) -> None:
        for kind, path, sample in findings:
            counter = self.new_keys if kind == NEW_KEY else self.wrong_types
            counter[path] += 1
            self.samples.setdefault(path, sample)


def _classify(shape: ObjectShape, extra: str) -> list[Finding]:
    try:
        values = orjson.loads(extra)
    except orjson.JSONDecodeError:
        return []
    if not isinstance(values, dict):
        return []
    findings = []
    for key, value in values.items():
        kind = shape.classify(key, value)
        if kind is not None:
            findings.append((kind, shape.source_path(key), sample_of(value)))
    return findings
