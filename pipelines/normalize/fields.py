"""Mapping API objects onto contract columns without losing anything.

A `Field` says which source key(s) feed a column and how the value is typed. An
`ObjectReader` walks one source object: it fills columns, remembers which keys it
used, and hands back every other key as `extra` (nested objects it entered add
their own leftovers under dotted names). A value of the wrong shape becomes null in
its column, stays in `extra` under its source key and is counted in `warnings`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from pipelines.normalize.timestamps import WRONG_TYPE, parse_timestamp
from pipelines.tables import Table

Converted = tuple[Any, str | None]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*")
UNITS = {
    "DAYS": "DAYS",
    "DAY": "DAYS",
    "DAILY": "DAYS",
    "WEEKS": "WEEKS",
    "WEEK": "WEEKS",
    "WEEKLY": "WEEKS",
    "MONTHS": "MONTHS",
    "MONTH": "MONTHS",
    "MONTHLY": "MONTHS",
}


def _as_text(value: Any) -> Converted:
    if type(value) is str:
        return value, None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), None
    return None, WRONG_TYPE


def _as_integer(value: Any) -> Converted:
    if type(value) is int and INT64_MIN <= value <= INT64_MAX:
        return value, None
    if _is_integral(value):
        value = int(value)
    if type(value) is not int:
        return None, WRONG_TYPE
    if not INT64_MIN <= value <= INT64_MAX:
        return None, "out of range"
    return value, None


def _is_integral(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, str) and _INTEGER_TEXT.fullmatch(value) is not None


def _as_boolean(value: Any) -> Converted:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true", None
    return None, WRONG_TYPE


def _as_unit(value: Any) -> Converted:
    if not isinstance(value, str):
        return None, WRONG_TYPE
    unit = UNITS.get(value.upper())
    return (unit, None) if unit else (None, "unknown unit")


@dataclass(frozen=True, slots=True)
class Field:
    """A column fed by the first non-null of `keys` (aliases across endpoints)."""

    column: str
    keys: tuple[str, ...]
    convert: Callable[[Any], Converted]
    iso_keys: tuple[str, ...] = ()  # read only when every epoch key is absent or null


def text(column: str, *keys: str) -> Field:
    return Field(column, keys, _as_text)


def integer(column: str, *keys: str) -> Field:
    return Field(column, keys, _as_integer)


def boolean(column: str, *keys: str) -> Field:
    return Field(column, keys, _as_boolean)


def unit(column: str, *keys: str) -> Field:
    """DAYS / WEEKS / MONTHS, also accepting DAILY / WEEKLY / MONTHLY."""
    return Field(column, keys, _as_unit)


def timestamp(column: str, *keys: str) -> Field:
    """Epoch keys with their ISO twins (`startOn` -> `startOnISO`) as fallback."""
    return Field(column, keys, parse_timestamp, tuple(f"{key}ISO" for key in keys))


_COLUMN_NAMES: dict[str, tuple[str, ...]] = {}


def new_row(table: Table, **values: Any) -> dict[str, Any]:
    """A row with every column of `table`, null unless given."""
    names = _COLUMN_NAMES.get(table.name)
    if names is None:
        names = _COLUMN_NAMES[table.name] = tuple(table.column_names)
    row = dict.fromkeys(names)
    row.update(values)
    return row


def extra_json(extra: dict[str, Any]) -> str | None:
    return orjson.dumps(extra).decode() if extra else None


class ObjectReader:
    """Reads one API object into rows of `table`, tracking which keys were used."""

    __slots__ = ("_children", "_prefix", "_source", "_table", "_used", "_warnings")

    def __init__(
        self, source: dict[str, Any], table: str, warnings: Counter[str], prefix: str = ""
    ) -> None:
        self._source = source
        self._table = table
        self._warnings = warnings
        self._prefix = prefix
        self._used: set[str] = set()
        self._children: list[ObjectReader] = []

    @property
    def table(self) -> str:
        return self._table

    def fill(self, row: dict[str, Any], fields: Iterable[Field]) -> None:
        for field in fields:
            row[field.column] = self.read(field)

    def read(self, field: Field) -> Any:
        key, raw = self._first_value(field.keys)
        if raw is None:
            if not field.iso_keys:
                return None
            key, raw = self._first_value(field.iso_keys)
            if raw is None:
                return None
        value, problem = field.convert(raw)
        if problem is not None:
            self.warn(field.column, problem)
            return None  # the raw value stays unused, so it lands in extra
        self._used.add(key)
        if field.iso_keys:
            self._used.update(field.iso_keys)
        return value

    def _first_value(self, keys: tuple[str, ...]) -> tuple[str | None, Any]:
        """The first key with a non-null value; null or absent keys count as used."""
        source, used = self._source, self._used
        for key in keys:
            value = source.get(key)
            if value is not None:
                return key, value
            used.add(key)
        return None, None

    def warn(self, column: str, problem: str) -> None:
        self._warnings[f"{self._table}.{column}: {problem}"] += 1

    def get(self, key: str) -> Any:
        """Peeks at a value without marking it used."""
        return self._source.get(key)

    def use(self, *keys: str) -> None:
        """Marks keys as mapped (their content went to a column or another table)."""
        self._used.update(keys)

    def use_if_empty(self, keys: Iterable[str]) -> None:
        """Marks keys as mapped when they carry nothing (null, [] or {}); others stay for extra."""
        source = self._source
        self._used.update(key for key in keys if source.get(key) in (None, [], {}))

    def child(self, *keys: str) -> ObjectReader:
        """Reader of the first nested object among `keys` (empty when absent or not an object).

        Its unused keys join this reader's extra as `<key>.<inner key>`.
        """
        key, value = self._first_value(keys)
        if key is None:
            return ObjectReader({}, self._table, self._warnings)
        if not isinstance(value, dict):
            self.warn(key, WRONG_TYPE)
            return ObjectReader({}, self._table, self._warnings)
        self._used.add(key)
        nested = ObjectReader(value, self._table, self._warnings, f"{self._prefix}{key}.")
        self._children.append(nested)
        return nested

    def objects(self, key: str) -> list[dict[str, Any]]:
        """The objects of a list-valued key. A list holding anything else stays in extra."""
        value = self._source.get(key)
        if value is None:
            self._used.add(key)
            return []
        if not isinstance(value, list):
            self.warn(key, WRONG_TYPE)
            return []
        items = [item for item in value if isinstance(item, dict)]
        if len(items) == len(value):
            self._used.add(key)
        else:
            self.warn(key, "non-object items")
        return items

    def strings(self, key: str) -> list[str]:
        """The strings of a list-valued key. A list holding anything else stays in extra."""
        value = self._source.get(key)
        if value is None:
            self._used.add(key)
            return []
        if not isinstance(value, list):
            self.warn(key, WRONG_TYPE)
            return []
        items = [item for item in value if isinstance(item, str)]
        if len(items) == len(value):
            self._used.add(key)
        else:
            self.warn(key, "non-string items")
        return items

    def mapping(self, key: str) -> dict[str, Any]:
        """An open map such as customFields. Anything but an object stays in extra."""
        value = self._source.get(key)
        if value is None:
            self._used.add(key)
            return {}
        if not isinstance(value, dict):
            self.warn(key, WRONG_TYPE)
            return {}
        self._used.add(key)
        return value

    def extra(self) -> dict[str, Any]:
        """Every unused key, with nested readers' leftovers under dotted names."""
        used = self._used
        leftovers = {
            f"{self._prefix}{key}": value for key, value in self._source.items() if key not in used
        }
        for nested in self._children:
            leftovers.update(nested.extra())
        return leftovers

    def extra_json(self) -> str | None:
        return extra_json(self.extra())
