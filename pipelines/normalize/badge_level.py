"""What a detail carries of its badge comes from the badge's freshest detail of the snapshot.

A detail carries two things that are the badge's, not the customer's, and the same in
every customer's detail of that badge:

- its description (`BADGE_DESCRIPTION_KEYS`: name, description, images, group, rank,
  ...) and when it was last updated;
- the figures of its `badgeConstraints` (its current cycle and the earns counted over
  every customer).

A detail reused from an earlier night (see `pipelines.extract.incremental`), or a customer
carried forward, would keep that night's, although the badge was described anew or another
customer has earned since. So a reused detail's description keys are those of the badge's
detail fetched tonight, when there is one, and the badge-level rows of
`customer_badge_constraints` of such a pair are tonight's (keyed to the pair); the
customer's own keys and rows stay the pair's.

Fetched details come first in a night's records, reused ones after them (their file
sorts last), so a reused detail meets tonight's detail of its badge already seen.

Only a detail that states `badgeConstraints` (an array, empty or not) tells the badge's
rows: the vendor leaves the key out of some answers (its examples do). Such a detail, fetched,
neither replaces another's rows nor takes them away from a reused one; reused, it keeps
what it said, as it did the night it was fetched.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from pipelines.client.endpoints import BADGE_DESCRIPTION_KEYS, BADGE_UPDATE_KEYS
from pipelines.lake.raw import RawRecord
from pipelines.lake.tables import CUSTOMER_BADGE_CONSTRAINTS, CUSTOMER_BADGE_DETAILS
from pipelines.normalize.constraints import BADGE_LEVEL
from pipelines.normalize.flatten import Rows
from pipelines.normalize.writer import rows_to_arrow

PAIR_COLUMNS = ("snapshot_date", "fetched_on", "customer_id", "identifier_type", "badge_id")
DESCRIBING_KEYS = BADGE_DESCRIPTION_KEYS | BADGE_UPDATE_KEYS


class BadgeLevelRows:
    """Tonight's description and badge-level constraint rows per badge, put in place of
    older ones."""

    def __init__(self) -> None:
        self._fresh: dict[str | None, list[dict[str, Any]]] = {}
        self._described: dict[str | None, dict[str, Any]] = {}
        self._states_badge_level = False  # of the detail `describe` saw last

    def describe(self, record: RawRecord, data: dict[str, Any]) -> dict[str, Any]:
        """Remembers a fetched detail's description; gives a reused detail tonight's. The
        keys keep their place in the reused answer; one tonight's lacks is dropped, one
        only tonight's has comes last. Called for each detail before `apply`."""
        self._states_badge_level = isinstance(data.get("badgeConstraints"), list)
        if record.reused_from is None:
            self._described[record.badge_id] = {
                key: data[key] for key in DESCRIBING_KEYS if key in data
            }
            return data
        fresh = self._described.get(record.badge_id)
        if fresh is None:
            return data
        kept = {
            key: fresh.get(key, value)
            for key, value in data.items()
            if key not in DESCRIBING_KEYS or key in fresh
        }
        return kept | fresh

    def apply(self, record: RawRecord, rows: Rows) -> Rows:
        """Remembers a fetched detail's badge-level rows; gives a reused detail tonight's."""
        details = rows.get(CUSTOMER_BADGE_DETAILS.name)
        if not details:
            return rows
        pair = details[0]
        table = CUSTOMER_BADGE_CONSTRAINTS.name
        constraints = rows.get(table, [])
        if record.reused_from is None:
            if self._states_badge_level:
                self._fresh[pair["badge_id"]] = [r for r in constraints if _is_badge_level(r)]
            return rows
        fresh = self._fresh.get(pair["badge_id"])
        if fresh is None or not self._states_badge_level:
            return rows
        keys = {column: pair[column] for column in PAIR_COLUMNS}
        own = [r for r in constraints if not _is_badge_level(r)]
        rows[table] = own + [{**row, **keys} for row in fresh]
        return rows

    def badges(self) -> pa.Table:
        """The badges with a detail fetched tonight (badge_id)."""
        return pa.table({"badge_id": pa.array(list(self._fresh), pa.string())})

    def rows(self) -> pa.Table:
        """Tonight's badge-level rows, one set per badge, as `customer_badge_constraints`."""
        fresh = [row for rows in self._fresh.values() for row in rows]
        return rows_to_arrow(CUSTOMER_BADGE_CONSTRAINTS, fresh)


def _is_badge_level(row: dict[str, Any]) -> bool:
    return row["constraint_level"] == BADGE_LEVEL
