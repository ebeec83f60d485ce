"""Which source key(s) feed a column and how the value is typed.

A `Field` names a column, the source keys that may feed it (aliases across
endpoints, first non-null wins) and the converter that types the value. Converters
return `(value, None)` or `(None, problem)`: a value of the wrong shape becomes null
in its column, stays in `extra` under its source key and is counted as a warning.
`reader.fill_row` is the one place that applies fields to an object.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from pipelines.normalize.timestamps import WRONG_TYPE, parse_timestamp

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


def as_text(value: Any) -> Converted:
    if type(value) is str:
        return value, None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), None
    return None, WRONG_TYPE


def as_key(value: Any) -> Converted:
    """Text that can key a row: not empty."""
    if value == "":
        return None, "empty"
    return as_text(value)


def as_integer(value: Any) -> Converted:
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


def as_boolean(value: Any) -> Converted:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true", None
    return None, WRONG_TYPE


def as_unit(value: Any) -> Converted:
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
    candidates: tuple[str, ...] = dataclass_field(init=False, repr=False, compare=False)
    """Every key in the order it is looked at: `keys`, then `iso_keys`."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "candidates", (*self.keys, *self.iso_keys))


def text(column: str, *keys: str) -> Field:
    return Field(column, keys, as_text)


def key_text(column: str, *keys: str) -> Field:
    """Text of a column rows are keyed on: an empty string is refused like a wrong type."""
    return Field(column, keys, as_key)


def integer(column: str, *keys: str) -> Field:
    return Field(column, keys, as_integer)


def boolean(column: str, *keys: str) -> Field:
    return Field(column, keys, as_boolean)


def unit(column: str, *keys: str) -> Field:
    """DAYS / WEEKS / MONTHS, also accepting DAILY / WEEKLY / MONTHLY."""
    return Field(column, keys, as_unit)


def timestamp(column: str, *keys: str) -> Field:
    """Epoch keys with their ISO twins (`startOn` -> `startOnISO`) as fallback."""
    return Field(column, keys, parse_timestamp, tuple(f"{key}ISO" for key in keys))
