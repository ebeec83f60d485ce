"""Reading one API object into rows without losing anything.

`fill_row` applies `Field`s to an object, one after the other:

- the keys are looked at in order, epoch keys first, then their ISO twins (so a twin
  counts only when every epoch key is null or absent);
- the first key with a non-null value feeds the column; the null or absent keys
  before it count as used, the keys after it are not looked at (they stay for extra);
- a converted value marks its key used, and every ISO twin that restates it (a twin that
  says another instant or none, is not text, or is empty, stays in extra, counted; the
  documented broken twin, a year past 9999, restates); a rejected one leaves the column
  null, its key unused (so it stays in extra) and counts `"<table>.<column>: <problem>"`
  in the warnings.

An `ObjectReader` walks one source object: it fills columns with `fill_row`,
remembers which keys it used, and hands back every other key as `extra` (nested
objects it entered add their own leftovers under dotted names). `flat_row` does the
same for an object read with nothing but fields.

JSON is read with `parse_json` and written with `json_text`, which keep integers beyond
64 bits exact: orjson reads them as floats and cannot write them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import orjson

from pipelines.lake.tables import Table
from pipelines.normalize.fields import Field
from pipelines.normalize.timestamps import WRONG_TYPE, restates

EMPTY_VALUES = (None, [], {})

_EMPTY_ROWS: dict[str, dict[str, Any]] = {}


def new_row(table: Table, **values: Any) -> dict[str, Any]:
    """A row with every column of `table` (in table order), null unless given."""
    empty = _EMPTY_ROWS.get(table.name)
    if empty is None:
        empty = _EMPTY_ROWS[table.name] = dict.fromkeys(table.column_names)
    row = empty.copy()
    row.update(values)
    return row


# Maps every digit to "0" and anything else to " ": a run of 19 zeros then marks an
# integer literal orjson may not hold exactly (or 19 digits of a string, read again too).
_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_RUN = b"0" * 19


def parse_json(text: bytes | str) -> Any:
    """The JSON value of `text` (raises orjson.JSONDecodeError), integers exact at any size."""
    value = orjson.loads(text)
    raw = text.encode() if isinstance(text, str) else text
    if _LONG_RUN in raw.translate(_DIGITS):
        return json.loads(raw)  # orjson accepted it, so it is valid JSON for json too
    return value


def json_text(value: Any) -> str:
    """Compact JSON text of a parsed value (an integer beyond 64 bits written exactly)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def sample_of(value: Any, chars: int = 80) -> str:
    """A value's JSON text, cut to `chars`."""
    text = json_text(value)
    return text if len(text) <= chars else f"{text[: chars - 1]}…"


def extra_json(extra: dict[str, Any]) -> str | None:
    return json_text(extra) if extra else None


def leftovers(source: dict[str, Any], used: set[str], prefix: str = "") -> dict[str, Any]:
    """Every key of `source` not in `used`, in source order, named `<prefix><key>`."""
    if used.issuperset(source):
        return {}
    if prefix:
        return {f"{prefix}{key}": value for key, value in source.items() if key not in used}
    return {key: value for key, value in source.items() if key not in used}


def fill_row(
    source: dict[str, Any],
    used: set[str],
    row: dict[str, Any],
    fields: Iterable[Field],
    table: str,
    warnings: Counter[str],
) -> None:
    """Sets each field's column in `row` from `source`, adding the keys it used to `used`."""
    get, use = source.get, used.add
    for field in fields:
        value = None
        for key in field.candidates:
            found = get(key)
            if found is None:
                use(key)
                continue
            value, problem = field.convert(found)
            if problem is None:
                use(key)
                if field.iso_keys:
                    _use_twins(source, used, field, value, table, warnings)
            else:
                value = None
                warnings[f"{table}.{field.column}: {problem}"] += 1
            break
        row[field.column] = value


def _use_twins(
    source: dict[str, Any],
    used: set[str],
    field: Field,
    micros: int,
    table: str,
    warnings: Counter[str],
) -> None:
    """Marks the ISO twins of a read instant used where they restate it (or are the
    documented broken form, a year past 9999). A twin that says another instant, or no
    instant at all, stays in extra, counted as disagreeing; one that is not text, or is
    empty, stays in extra, counted as of the wrong type."""
    for twin in field.iso_keys:
        if twin in used:  # the key read, or a null one before it
            continue
        value = source.get(twin)
        if value is None:
            used.add(twin)
        elif type(value) is not str or not value:
            warnings[f"{table}.{field.column}: ISO twin wrong type"] += 1
        elif restates(micros, value):
            used.add(twin)
        else:
            warnings[f"{table}.{field.column}: ISO twin disagrees"] += 1


def flat_row(
    source: dict[str, Any],
    fields: Iterable[Field],
    table: str,
    row: dict[str, Any],
    warnings: Counter[str],
) -> dict[str, Any]:
    """`row` filled from an object with no nested reads, its unmapped keys as extra."""
    used: set[str] = set()
    fill_row(source, used, row, fields, table, warnings)
    row["extra"] = extra_json(leftovers(source, used))
    return row


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
        """Sets each field's column in `row` (first non-null key wins, see `read_field`)."""
        fill_row(self._source, self._used, row, fields, self._table, self._warnings)

    def read(self, field: Field) -> Any:
        """One field's value, read as `fill` reads it."""
        row: dict[str, Any] = {}
        self.fill(row, (field,))
        return row[field.column]

    def warn(self, column: str, problem: str) -> None:
        self._warnings[f"{self._table}.{column}: {problem}"] += 1

    def get(self, key: str) -> Any:
        """Peeks at a value without marking it used."""
        return self._source.get(key)

    def use(self, *keys: str) -> None:
        """Marks keys as mapped (their content went to a column or another table)."""
        self._used.update(keys)

    def use_if_empty(self, keys: Iterable[str], empty: tuple[Any, ...] = EMPTY_VALUES) -> None:
        """Marks keys as mapped when they carry nothing (by default null, [] or {}); others
        stay for extra."""
        source = self._source
        self._used.update(key for key in keys if source.get(key) in empty)

    def child(self, *keys: str) -> ObjectReader:
        """Reader of the first nested object among `keys` (empty when absent or not an object).

        Its unused keys join this reader's extra as `<key>.<inner key>`.
        """
        source, used = self._source, self._used
        for key in keys:
            value = source.get(key)
            if value is None:
                used.add(key)
                continue
            if not isinstance(value, dict):
                self.warn(key, WRONG_TYPE)
                break
            used.add(key)
            nested = ObjectReader(value, self._table, self._warnings, f"{self._prefix}{key}.")
            self._children.append(nested)
            return nested
        return ObjectReader({}, self._table, self._warnings)

    def objects(self, key: str) -> list[dict[str, Any]]:
        """The objects of a list-valued key. A list holding anything else stays in extra."""
        return self._items(key, dict, "non-object items")

    def strings(self, key: str) -> list[str]:
        """The strings of a list-valued key. A list holding anything else stays in extra."""
        return self._items(key, str, "non-string items")

    def _items(self, key: str, kind: type, problem: str) -> list[Any]:
        value = self._source.get(key)
        if value is None:
            self._used.add(key)
            return []
        if not isinstance(value, list):
            self.warn(key, WRONG_TYPE)
            return []
        items = [item for item in value if isinstance(item, kind)]
        if len(items) == len(value):
            self._used.add(key)
        else:
            self.warn(key, problem)
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
        extra = leftovers(self._source, self._used, self._prefix)
        for nested in self._children:
            extra.update(nested.extra())
        return extra

    def extra_json(self) -> str | None:
        return extra_json(self.extra())
