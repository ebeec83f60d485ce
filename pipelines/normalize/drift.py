"""The drift report: what the vendor sent that the contract does not know.

Every key a flattener does not map lands in its row's `extra`, so drift is read from
there, row by row, after a record is flattened (and deduplicated):

- a **new key**: a key of `extra` the contract neither maps nor keeps there on purpose
  (`KEPT_IN_EXTRA`, the documented keys no column holds);
- a **wrong type**: a key of `extra` that feeds a column but whose value its converter
  refuses, or an object or list the flattener reads that came as something else (a list
  holding other items too). One of the right type that was not read (an alias after the
  first, a window list of another kind of constraint) is known, not drift;
- a **disagreement**: a second name of a column (an alias after the first, an ISO twin)
  kept in `extra` beside a column that holds a value, because it says something else
  (`pipelines.normalize.second_names`).

A list page's own keys (beside `badges`, and in `pagination`) make no row: they are read
from the page itself. Each finding is counted by its source path
(`customer_badge_detail.data.issualDetails.issuals[].fooBar`) with one sample value, cut
short; `pipelines.normalize.drift_tracker` counts them. Repeated entries are counted by
`pipelines.normalize.repeats`, how well objects fit by `pipelines.normalize.coverage`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pipelines.client.endpoints import DETAIL_ENDPOINT, LIST_ENDPOINT, META_ENDPOINT
from pipelines.lake.tables import (
    BADGE_CLAIMS,
    BADGE_CONSTRAINTS,
    BADGE_CUSTOM_FIELDS,
    BADGE_EARNS,
    BADGE_ISSUALS,
    BADGE_OWNERS,
    BADGES,
    CUSTOMER_BADGE_CONSTRAINTS,
    CUSTOMER_BADGE_DETAILS,
    CUSTOMER_BADGES,
)
from pipelines.normalize import constraints as c
from pipelines.normalize import mappings as m
from pipelines.normalize.fields import Converted, Field, as_integer
from pipelines.normalize.reader import sample_of

NEW_KEY, WRONG_TYPE, DISAGREEMENT = "new key", "wrong type", "disagreement"

_EXPIRIES = ("earnedBadgeExpiry", "earnExpiry", "issuedBadgeExpiry", "issueExpiry")
# Documented keys (the vendor's examples) that no column maps: they stay in `extra` by
# design and are not drift. Promoting one to a column removes it from here.
KEPT_IN_EXTRA = frozenset(
    {
        *("description", "images", "tags", "benefits", "customFields", "badgeGroupName"),
        # a list entry's nested objects, read from the meta and the detail instead
        *("ownership", "customerConstraints", "badgeConstraints", *_EXPIRIES),
        *("id", "owner", "claimedBy"),  # a detail's own id (when another badge's) and owners
        *(f"{expiry}.expireWithBadgeMeta" for expiry in _EXPIRIES),
        "constraintLevel",  # a constraint's level where it disagrees with its array
    }
)


@dataclass(frozen=True)
class ObjectShape:
    """What the contract knows of the objects one table's rows come from."""

    path: str  # the source path of the object, e.g. `badge_meta.data`
    converters: dict[str, Callable[[Any], Converted]]  # extra key -> its column's converter
    # objects and lists the flattener reads -> whether a value has their type
    containers: dict[str, Callable[[Any], bool]] = field(default_factory=dict)
    nested_list: str = ""  # extra keys `<nested_list>.x` come from `<nested_list>[].x`

    def source_path(self, key: str) -> str:
        if self.nested_list and key.startswith(f"{self.nested_list}."):
            return f"{self.path}.{self.nested_list}[]{key[len(self.nested_list) :]}"
        return f"{self.path}.{key}"

    def classify(self, key: str, value: Any) -> str | None:
        """NEW_KEY, WRONG_TYPE, or None for a key the contract knows (null is never of the
        wrong type: an alias after a refused key is left unread, null or not)."""
        convert = self.converters.get(key)
        if convert is not None:
            return WRONG_TYPE if value is not None and convert(value)[1] is not None else None
        has_type = self.containers.get(key)
        if has_type is not None:
            return None if value is None or has_type(value) else WRONG_TYPE
        return None if key in KEPT_IN_EXTRA else NEW_KEY


def _object(value: Any) -> bool:
    return isinstance(value, dict)


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _containers(objects: Iterable[str], lists: Iterable[str] = ()) -> dict[str, Any]:
    return {**dict.fromkeys(objects, _object), **dict.fromkeys(lists, _objects)}


def _converters(fields: Iterable[Field], *prefixes: str) -> dict[str, Any]:
    return {
        f"{prefix}{key}": _iso_twin(mapped.convert) if key in mapped.iso_keys else mapped.convert
        for prefix in prefixes or ("",)
        for mapped in fields
        for key in mapped.candidates
    }


def _iso_twin(convert: Callable[[Any], Converted]) -> Callable[[Any], Converted]:
    """An ISO twin left in extra is text (a number there restates no epoch; see reader)."""
    return lambda value: convert(value) if type(value) is str else (None, WRONG_TYPE)


_META = f"{META_ENDPOINT.name}.data"
_DETAIL = f"{DETAIL_ENDPOINT.name}.data"
_LIST = f"{LIST_ENDPOINT.name}.data"
# The four expiry objects hold the same keys, typed the same, in a meta and a detail.
_EXPIRY = _converters(m.EARNED_EXPIRY_FIELDS, *(f"{expiry}." for expiry in _EXPIRIES))
_ARRAYS = frozenset(c.LEVEL_OF_ARRAY)
_CONSTRAINT = {
    **_converters(c.COMMON_FIELDS),
    **_converters(c.CYCLE_FIELDS, "currentCycle.", "fixedWindowCycle."),
    **_converters((*c.FIXED_WINDOW_FIELDS, *c.LIMIT_FIELDS)),
    **_converters(c.LIMIT_FIELDS, "rollingWindowLimits."),
    **_converters(p.length for p in c.PAIRS),
    **_converters(p.max_earn for p in c.PAIRS),
    **_converters(
        (c.CURRENT_EARN_COUNT, *(p.current_count for p in c.PAIRS)),
        "earnConstraintBlockStatistics.",
    ),
}
_CONSTRAINT_CONTAINERS = _containers(
    ("currentCycle", "fixedWindowCycle", "earnConstraintBlockStatistics"), ["rollingWindowLimits"]
)
SHAPES: dict[str, ObjectShape] = {
    BADGES.name: ObjectShape(
        _META,
        {**_converters(m.BADGE_FIELDS), **_EXPIRY},
        {
            **_containers((*_EXPIRIES, "ownership", "customFields"), _ARRAYS),
            "ownership.claims": _objects,
            "ownership.restrictedToOwners": _strings,
        },
    ),
    BADGE_CLAIMS.name: ObjectShape(f"{_META}.ownership.claims[]", _converters(m.CLAIM_FIELDS)),
    CUSTOMER_BADGES.name: ObjectShape(f"{_LIST}.badges[]", _converters(m.CUSTOMER_BADGE_FIELDS)),
    CUSTOMER_BADGE_DETAILS.name: ObjectShape(
        _DETAIL,
        {
            **_converters(m.DETAIL_FIELDS),
            **_EXPIRY,
            **_converters((m.ISSUED_COUNT,), "issualDetails."),
            **_converters((m.EARN_COUNT,), "earnDetails."),
        },
        _containers(
            (*_EXPIRIES, "issualDetails", "earnDetails"),
            (*_ARRAYS, "issualDetails.issuals", "earnDetails.earns"),
        ),
    ),
    BADGE_ISSUALS.name: ObjectShape(
        f"{_DETAIL}.issualDetails.issuals[]", _converters(m.ISSUAL_FIELDS)
    ),
    BADGE_EARNS.name: ObjectShape(f"{_DETAIL}.earnDetails.earns[]", _converters(m.EARN_FIELDS)),
}
# Constraint rows: the shape of the array the row came from (its constraint_level).
CONSTRAINT_SHAPES: dict[str, dict[str, ObjectShape]] = {
    table: {
        level: ObjectShape(
            f"{path}.{array}[]", _CONSTRAINT, _CONSTRAINT_CONTAINERS, "rollingWindowLimits"
        )
        for array, level in c.LEVEL_OF_ARRAY.items()
    }
    for table, path in ((BADGE_CONSTRAINTS.name, _META), (CUSTOMER_BADGE_CONSTRAINTS.name, _DETAIL))
}
PAGINATION = ObjectShape(
    f"{_LIST}.pagination", dict.fromkeys(("page", "size", "total", "totalPages"), as_integer)
)
PAGE_KEYS = ("badges", "pagination")  # a list page's keys that are not drift
LIST_PAGE_PATH = _LIST
# The source path of the objects (or strings, or map entries) each table's rows come from.
OBJECT_PATHS: dict[str, str] = {
    **{table: shape.path for table, shape in SHAPES.items()},
    BADGE_OWNERS.name: f"{_META}.ownership.restrictedToOwners[]",
    BADGE_CUSTOM_FIELDS.name: f"{_META}.customFields",
}
TABLE_OF_PATH: dict[str, str] = {
    _LIST: CUSTOMER_BADGES.name,  # a list page's own keys
    **{path: table for table, path in OBJECT_PATHS.items()},
    **{s.path: table for table, shapes in CONSTRAINT_SHAPES.items() for s in shapes.values()},
}


def table_of_path(path: str) -> str | None:
    """The table whose rows come from the object at the start of `path`."""
    best = max(
        (p for p in TABLE_OF_PATH if path == p or path.startswith(f"{p}.")), key=len, default=None
    )
    return TABLE_OF_PATH[best] if best else None


def object_path(table: str, row: dict[str, Any]) -> str:
    """The source path of the object `row` came from (a constraint's: its array's)."""
    by_level = CONSTRAINT_SHAPES.get(table)
    if by_level is not None:
        shape = by_level.get(row.get("constraint_level"))  # type: ignore[arg-type]
        return shape.path if shape is not None else table
    return OBJECT_PATHS.get(table, table)


Finding = tuple[str, str, str]  # kind, source path, sample


def classify_object(shape: ObjectShape, values: dict[str, Any]) -> list[Finding]:
    return [
        (kind, shape.source_path(key), sample_of(value))
        for key, value in values.items()
        if (kind := shape.classify(key, value)) is not None
    ]
