"""Entries the vendor repeats within one answer: resolved before any row reaches a check.

Every table with a unique key (`pipelines.lake.tables`: the key is declared there, once)
has its rows of one answer grouped by that key, whatever list they came from, so a list
read later gets the same treatment without a line here:

- an **exact repeat** (the same values under the same key) is one row; it is counted as
  a normalizer warning and in the drift report under the path of its list;
- a **conflicting repeat** (the same key, other values): the first entry keeps the row;
  the other is an `extract_errors` row (error_code `repeated_key`) naming the answer, the
  path and the key, with every value of the other entry, and is counted.

Where an entry sat (`list_position`) is not what it says: two entries that differ only
there are an exact repeat. The same holds across the pages of one customer's list
(`RecordNormalizer`), with the row's content remembered as a hash beside its key.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from pipelines.lake.tables import EXTRACT_ERRORS, TABLES
from pipelines.normalize.drift import object_path
from pipelines.normalize.reader import json_text, new_row

REPEATED_KEY = "repeated_key"  # error_code of the other entry of a conflicting repeat
PLACE_COLUMNS = frozenset({"list_position"})  # where an entry sat, not what it says

_KEY_OF: dict[str, Callable[[dict[str, Any]], Any]] = {
    name: itemgetter(*table.key) for name, table in TABLES.items() if table.unique
}
_KEYED_BY = {name: TABLES[name].keyed_by for name in _KEY_OF}


_SAID = {
    name: itemgetter(*(c for c in table.column_names if c not in PLACE_COLUMNS))
    for name, table in TABLES.items()
}


def content_hash(table: str, row: dict[str, Any]) -> int:
    """A hash of what a row says (its place left out), for comparing across answers."""
    return hash(_SAID[table](row))


def same_content(first: dict[str, Any], other: dict[str, Any]) -> bool:
    return all(
        first[column] == value for column, value in other.items() if column not in PLACE_COLUMNS
    )


class RepeatResolver:
    """Resolves the repeats of one answer's rows, counting them into the report."""

    def __init__(
        self,
        warnings: Counter[str],
        repeats: Counter[str],
        conflicts: Counter[str],
        samples: dict[str, str],
    ) -> None:
        self.warnings, self.repeats, self.conflicts = warnings, repeats, conflicts
        self.samples = samples

    def resolve(
        self, rows: dict[str, list[dict[str, Any]]], record: Any, snapshot_date: dt.date
    ) -> None:
        """Drops repeats from `rows` in place; a conflicting one adds an extract_errors row
        naming the answer (`record`: a RawRecord)."""
        errors: list[dict[str, Any]] = []
        for table, table_rows in rows.items():
            if len(table_rows) < 2 or table not in _KEY_OF:
                continue
            keys = list(map(_KEY_OF[table], table_rows))
            if len(set(keys)) == len(keys):
                continue
            answer = {
                "snapshot_date": snapshot_date,
                "endpoint": record.endpoint,
                "customer_id": record.customer_id,
                "identifier_type": record.identifier_type,
                "badge_id": record.badge_id,
                "list_type": record.list_type,
            }
            rows[table] = self._first_of_each(table, table_rows, keys, answer, errors)
        if errors:
            rows.setdefault(EXTRACT_ERRORS.name, []).extend(errors)

    def _first_of_each(
        self,
        table: str,
        table_rows: list[dict[str, Any]],
        keys: list[Any],
        answer: dict[str, Any],
        errors: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        first: dict[Any, dict[str, Any]] = {}
        kept = []
        keyed_by = _KEYED_BY[table]
        for row, key in zip(table_rows, keys, strict=True):
            if any(row[column] is None for column in keyed_by):
                kept.append(row)  # not keyed: no key to repeat
                continue
            earlier = first.get(key)
            if earlier is None:
                first[key] = row
                kept.append(row)
            elif same_content(earlier, row):
                self.count_repeat(table, row)
            else:
                errors.append(self.conflict(table, row, answer))
        return kept

    def count_repeat(self, table: str, row: dict[str, Any]) -> None:
        path = object_path(table, row)
        self.warnings[f"{table}: repeated entry"] += 1
        self.repeats[path] += 1
        self.samples.setdefault(path, _key_text(table, row))

    def conflict(self, table: str, row: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        """The extract_errors row that keeps the other entry of a conflicting repeat."""
        path = object_path(table, row)
        self.warnings[f"{table}: repeated key with other values"] += 1
        self.conflicts[path] += 1
        key = _key_text(table, row)
        self.samples.setdefault(path, key)
        values = {column: _plain(value) for column, value in row.items() if value is not None}
        names = ("snapshot_date", "endpoint", "customer_id", "identifier_type", "badge_id")
        return new_row(
            EXTRACT_ERRORS,
            **{name: answer.get(name) for name in (*names, "list_type")}
            | {"badge_id": row.get("badge_id") or answer.get("badge_id")},
            error_code=REPEATED_KEY,
            message=(
                f"{path}: a second entry with the key {key} and other values "
                f"(the first is the row): {json_text(values)}"
            ),
        )


def _key_text(table: str, row: dict[str, Any]) -> str:
    return json_text({column: _plain(row[column]) for column in TABLES[table].key})


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
