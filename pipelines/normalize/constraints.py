"""Constraint objects of both API shapes -> rows of one column layout (CONSTRAINT_COLUMNS).

Meta/list shape: `constraintType` = CUSTOMER_BADGE_* / BADGE_* with `durationType` +
`refreshRate`, `rollType` + `rollValue` or (customer rolling) the pairs
`maxEarnFor{Days,Weeks,Months}` / `rollFor{...}`, and `currentCycle`. Detail shape:
`constraintLevel` + `constraintType` = OVERALL / FIXED_WINDOW / ROLLING_WINDOW,
`fixedWindowCycle`, `rollingWindowLimits` and `earnConstraintBlockStatistics`.
The level is always the array the object came from, whatever the type's prefix says.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from pipelines.lake.tables import Table
from pipelines.normalize.fields import integer, text, timestamp, unit
from pipelines.normalize.reader import ObjectReader, extra_json, new_row

FIXED_VALUE = "FIXED_VALUE"
FIXED_WINDOW = "FIXED_WINDOW"
ROLLING_WINDOW = "ROLLING_WINDOW"
NO_LIMIT = "NO_LIMIT"

CUSTOMER_LEVEL = "CUSTOMER"
BADGE_LEVEL = "BADGE"
LEVEL_OF_ARRAY = {"customerConstraints": CUSTOMER_LEVEL, "badgeConstraints": BADGE_LEVEL}

COMMON_FIELDS = (
    text("raw_constraint_type", "constraintType"),
    text("reference_id", "referenceId", "fixedWindowReferenceId"),
    text("cycle_status", "cycleStatus"),
    timestamp("starts_at", "startDate"),
    timestamp("ends_at", "endDate"),
    text("start_day_of_week", "startDayOfTheWeek"),
)
CYCLE_FIELDS = (timestamp("cycle_start_at", "startDate"), timestamp("cycle_end_at", "endDate"))
MAX_EARN = integer("max_earn_limit", "maxEarnLimit")
FIXED_WINDOW_FIELDS = (unit("window_unit", "durationType"), integer("window_length", "refreshRate"))
ROLLING_FIELDS = (unit("window_unit", "rollType"), integer("window_length", "rollValue"))
LIMIT_FIELDS = (*ROLLING_FIELDS, MAX_EARN)
MAX_EARN_ONLY = (MAX_EARN,)
WINDOW_FIELDS_OF_KIND = {
    FIXED_WINDOW: (*FIXED_WINDOW_FIELDS, MAX_EARN),
    ROLLING_WINDOW: LIMIT_FIELDS,
}
CURRENT_EARN_COUNT = integer("current_earn_count", "currentEarnCount")


class _Pair:
    """One `maxEarnFor<Unit>` / `rollFor<Unit>` pair of a customer rolling constraint."""

    def __init__(self, suffix: str, unit_name: str) -> None:
        self.unit = unit_name
        self.max_key = f"maxEarnFor{suffix}"
        self.roll_key = f"rollFor{suffix}"
        self.length = integer("window_length", self.roll_key)
        self.max_earn = integer("max_earn_limit", self.max_key)
        self.current_count = integer("current_earn_count", f"currentEarnCount{suffix}")


PAIRS = (_Pair("Days", "DAYS"), _Pair("Weeks", "WEEKS"), _Pair("Months", "MONTHS"))
PAIR_KEYS = tuple(key for pair in PAIRS for key in (pair.max_key, pair.roll_key))
COUNT_OF_UNIT = {pair.unit: pair.current_count for pair in PAIRS}
# Window keys a constraint of another kind may carry: mapped when null (an empty list, for
# rollingWindowLimits); a value stays in extra, a wrong-typed empty one too.
NULL_WHEN_UNMAPPED = ("durationType", "refreshRate", "rollType", "rollValue", "maxEarnLimit")
NULL_WHEN_UNMAPPED += PAIR_KEYS
EMPTY_WHEN_UNMAPPED = ("rollingWindowLimits",)
STATS_KEYS = ("currentEarnCount", *(pair.current_count.keys[0] for pair in PAIRS))

Window = tuple[dict[str, Any], dict[str, Any]]
"""Column values of one window row and the extra keys that belong to that row only."""


def constraint_kind(constraint_type: Any) -> str | None:
    """FIXED_VALUE, FIXED_WINDOW, ROLLING_WINDOW or NO_LIMIT from either shape's type name."""
    if not isinstance(constraint_type, str):
        return None
    if constraint_type == "OVERALL" or constraint_type.endswith(FIXED_VALUE):
        return FIXED_VALUE
    for kind in (FIXED_WINDOW, ROLLING_WINDOW, NO_LIMIT):
        if constraint_type.endswith(kind):
            return kind
    return None


def constraint_arrays(source: dict[str, Any]) -> list[str]:
    """The constraint keys of `source` read whole into rows: nothing, or an array of
    objects. Any other value (an array holding something else too) stays in `extra`."""
    return [key for key in LEVEL_OF_ARRAY if _read_whole(source.get(key))]


def _read_whole(value: Any) -> bool:
    return value is None or (type(value) is list and all(type(item) is dict for item in value))


def constraint_rows(
    source: dict[str, Any], table: Table, base: dict[str, Any], warnings: Counter[str]
) -> list[dict[str, Any]]:
    """Rows of `table` for both constraint arrays of a badge object (`base` holds the keys):
    one per window of each object of an array (its other items stay in `extra`)."""
    rows: list[dict[str, Any]] = []
    for array, level in LEVEL_OF_ARRAY.items():
        constraints = source.get(array)
        if constraints is None:
            continue
        if type(constraints) is not list:
            warnings[f"{table.name}: {array} not an array"] += 1
            continue
        if not constraints:
            continue
        if not _read_whole(constraints):
            warnings[f"{table.name}: {array} has non-object items"] += 1
        for template in _rows_of_array(constraints, level, table, warnings):
            row = template.copy()
            row.update(base)
            rows.append(row)
    return rows


class _ArrayMemo:
    """Rows (without their keys) and warnings of constraint arrays already seen, keyed by
    their JSON.

    The same badge-level array comes with every customer's detail of that badge, and
    customer-level ones repeat too: their rows differ only in the key columns. The
    JSON text fixes every value and its type, so equal text means equal rows. Bounded:
    the memo starts over when full.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._entries: dict[tuple[Any, ...], tuple[list[dict[str, Any]], Counter[str]]] = {}

    def get(self, key: tuple[Any, ...]) -> tuple[list[dict[str, Any]], Counter[str]] | None:
        return self._entries.get(key)

    def put(self, key: tuple[Any, ...], rows: list[dict[str, Any]], found: Counter[str]) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (rows, found)


_memo = _ArrayMemo()


def _rows_of_array(
    constraints: Any, level: str, table: Table, warnings: Counter[str]
) -> list[dict[str, Any]]:
    """One row of `table` per window of one constraint array, its key columns null
    (memoized on the array's JSON: copy a row before setting its keys)."""
    key = None
    if type(constraints) is list:
        try:
            key = (table.name, level, orjson.dumps(constraints))
        except (orjson.JSONEncodeError, TypeError):
            key = None  # not JSON (a caller's own dict): computed without the memo
    cached = _memo.get(key) if key is not None else None
    if cached is not None:
        if cached[1]:
            warnings.update(cached[1])
        return cached[0]
    found: Counter[str] = Counter()
    empty = new_row(table)
    with_counts = "current_earn_count" in empty
    rows = [
        {**empty, **window}
        for constraint in constraints
        if isinstance(constraint, dict)
        for window in _columns_of_constraint(constraint, level, table.name, with_counts, found)
    ]
    if found:
        warnings.update(found)
    if key is not None:
        _memo.put(key, rows, found)
    return rows


def _columns_of_constraint(
    constraint: dict[str, Any],
    level: str,
    table: str,
    with_counts: bool,
    warnings: Counter[str],
) -> list[dict[str, Any]]:
    reader = ObjectReader(constraint, table, warnings)
    row: dict[str, Any] = {"constraint_level": level}
    if constraint.get("constraintLevel") in (None, level):
        reader.use("constraintLevel")
    reader.fill(row, COMMON_FIELDS)
    reader.child("currentCycle", "fixedWindowCycle").fill(row, CYCLE_FIELDS)
    kind = row["constraint_kind"] = constraint_kind(row["raw_constraint_type"])
    if kind is None:
        reader.warn("constraint_kind", "unknown constraintType")
    stats = reader.child("earnConstraintBlockStatistics") if with_counts else None
    windows = _windows(reader, kind, stats, warnings) or [({}, {})]
    reader.use_if_empty(NULL_WHEN_UNMAPPED, (None,))
    reader.use_if_empty(EMPTY_WHEN_UNMAPPED, (None, []))
    if stats is not None:
        stats.use_if_empty(STATS_KEYS, (None,))
    shared_extra = reader.extra()
    return [
        {**row, **columns, "extra": extra_json({**shared_extra, **own_extra})}
        for columns, own_extra in windows
    ]


def _windows(
    reader: ObjectReader, kind: str | None, stats: ObjectReader | None, warnings: Counter[str]
) -> list[Window]:
    if kind == ROLLING_WINDOW and any(reader.get(key) is not None for key in PAIR_KEYS):
        return _pair_windows(reader, stats)
    if kind == ROLLING_WINDOW and reader.get("rollingWindowLimits"):
        return _limit_windows(reader, stats, warnings)
    columns: dict[str, Any] = {}
    reader.fill(columns, WINDOW_FIELDS_OF_KIND.get(kind, MAX_EARN_ONLY))
    if stats is not None:
        columns["current_earn_count"] = stats.read(CURRENT_EARN_COUNT)
    return [(columns, {})]


def _pair_windows(reader: ObjectReader, stats: ObjectReader | None) -> list[Window]:
    """One row per pair with a value: window_length = rollFor*, max_earn_limit = maxEarnFor*."""
    windows: list[Window] = []
    for pair in PAIRS:
        if reader.get(pair.max_key) is None and reader.get(pair.roll_key) is None:
            continue
        columns = {
            "window_unit": pair.unit,
            "window_length": reader.read(pair.length),
            "max_earn_limit": reader.read(pair.max_earn),
        }
        if stats is not None:
            columns["current_earn_count"] = stats.read(pair.current_count)
        windows.append((columns, {}))
    return windows


def _limit_windows(
    reader: ObjectReader, stats: ObjectReader | None, warnings: Counter[str]
) -> list[Window]:
    """One row per `rollingWindowLimits` item ({rollType, rollValue, maxEarnLimit})."""
    windows: list[Window] = []
    for limit in reader.objects("rollingWindowLimits"):
        item = ObjectReader(limit, reader.table, warnings, "rollingWindowLimits.")
        columns: dict[str, Any] = {}
        item.fill(columns, LIMIT_FIELDS)
        if stats is not None:
            count_field = COUNT_OF_UNIT.get(columns["window_unit"], CURRENT_EARN_COUNT)
            columns["current_earn_count"] = stats.read(count_field)
        windows.append((columns, item.extra()))
    return windows
