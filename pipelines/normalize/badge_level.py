"""Badge-level constraint rows come from the badge's freshest detail of the snapshot.

A detail's `badgeConstraints` carry the badge's figures (its current cycle and the earns
counted over every customer), the same in every customer's detail of that badge. A
detail reused from an earlier night (see `pipelines.extract.incremental`), or a customer
carried forward, would keep that night's figures although another customer has earned
since. So the badge-level rows of `customer_badge_constraints` of such a pair are those
of the badge's detail fetched tonight (keyed to the pair), when there is one; the
customer-level rows stay the pair's own.

Fetched details come first in a night's records, reused ones after them (their file
sorts last), so a reused detail meets tonight's rows of its badge already seen.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from pipelines.lake.raw import RawRecord
from pipelines.lake.tables import CUSTOMER_BADGE_CONSTRAINTS, CUSTOMER_BADGE_DETAILS
from pipelines.normalize.constraints import BADGE_LEVEL
from pipelines.normalize.flatten import Rows
from pipelines.normalize.writer import rows_to_arrow

PAIR_COLUMNS = ("snapshot_date", "fetched_on", "customer_id", "identifier_type", "badge_id")


class BadgeLevelRows:
    """Tonight's badge-level constraint rows per badge, put in place of older ones."""

    def __init__(self) -> None:
        self._fresh: dict[str | None, list[dict[str, Any]]] = {}

    def apply(self, record: RawRecord, rows: Rows) -> Rows:
        """Remembers a fetched detail's badge-level rows; gives a reused detail tonight's."""
        details = rows.get(CUSTOMER_BADGE_DETAILS.name)
        if not details:
            return rows
        pair = details[0]
        table = CUSTOMER_BADGE_CONSTRAINTS.name
        constraints = rows.get(table, [])
        if record.reused_from is None:
            self._fresh[pair["badge_id"]] = [r for r in constraints if _is_badge_level(r)]
            return rows
        fresh = self._fresh.get(pair["badge_id"])
        if fresh is None:
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
