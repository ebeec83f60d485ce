"""How well the vendor's objects fit the contract: per kind of object (its source path),
how many came, and how many filled none of the columns their mapping types while
carrying keys (all of them then in `extra`), with those keys counted.

A kind whose objects mostly fill nothing is one the mappings do not know by these names
(the earn objects are a guess, see docs/drift.md): its rows hold nothing but their keys
and `extra`, which the night reports and a non-blocking check warns of.
"""

from __future__ import annotations

from functools import partial
from operator import is_
from typing import Any

from pipelines.lake.tables import TABLES
from pipelines.normalize.reader import parse_json

# Columns a row gets from where its object sat, not from the object's own keys.
CONTEXT_COLUMNS = frozenset(
    {
        *("snapshot_date", "fetched_on", "customer_id", "identifier_type", "list_type"),
        *("list_position", "badge_id", "constraint_level", "constraint_kind"),
        *("key_derived", "extra"),
    }
)
TYPED: dict[str, tuple[str, ...]] = {
    name: tuple(c for c in table.column_names if c not in CONTEXT_COLUMNS)
    for name, table in TABLES.items()
}
# ... but for a row whose key was derived (`key_derived`): that key is not filled either.
TYPED_BUT_KEY: dict[str, tuple[str, ...]] = {
    name: tuple(c for c in columns if c not in TABLES[name].key) for name, columns in TYPED.items()
}
_is_none = partial(is_, None)
MOSTLY = 0.5  # a kind warns when more than this share of its objects fill nothing


class Coverage:
    """Counts objects and unmapped objects per source path into the report."""

    def __init__(self, report: Any) -> None:
        self.objects, self.unmapped = report.objects, report.unmapped
        self.keys: dict[str, dict[str, int]] = report.unmapped_keys

    def check(self, path: str, table: str, row: dict[str, Any], extra: str) -> None:
        """Counts a row (counted among its kind's objects already) that carries `extra` as
        unmapped when it filled no typed column."""
        typed = (TYPED_BUT_KEY if row.get("key_derived") else TYPED)[table]
        if all(map(_is_none, map(row.__getitem__, typed))):
            self._unmapped(path, extra)

    def _unmapped(self, path: str, extra: str) -> None:
        self.unmapped[path] += 1
        keys = self.keys.setdefault(path, {})
        values = parse_json(extra)
        for key in values if isinstance(values, dict) else ():
            keys[key] = keys.get(key, 0) + 1


def mostly_unmapped(objects: int, unmapped: int) -> bool:
    """Whether most objects of a kind filled no typed column."""
    return objects > 0 and unmapped > objects * MOSTLY
