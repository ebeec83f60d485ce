"""Incremental nights: reuse a (customer, badge) detail when nothing about the pair changed.

The API has no change feed, and the detail call is one per pair, so it is the call to
save. A pair's fingerprint hashes its whole entry in every list it appears in, plus
the badge meta's `lastUpdatedOn`, `issuedCount` and `earnedCount` (a badge-level earn
count is part of every pair's detail). A pair is fetched again when

- its fingerprint differs from the last snapshot's, or it is new,
- it is due by age: each pair has a slot, `crc32("customer|identifier|badge") % N`, and
  is refetched on the nights whose `date.toordinal() % N` equals it, so about 1/N of the
  pairs are refreshed each night and none is older than N days (N = `refresh_days`),
- or the run is a full refresh.

Otherwise its detail response is copied from the previous archive, marked with the day
it was really fetched (`reused_from`). A change that shows neither in the customer's
lists nor in the badge's meta statistics is picked up within `refresh_days`. Each
snapshot archive keeps the fingerprints in `_state/detail_fingerprints.parquet`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.extract.customers import CustomerRef
from pipelines.lake import Lake
from pipelines.raw import ENDPOINT_DETAIL, RAW_SCHEMA

STATE_FILE = Path("_state") / "detail_fingerprints.parquet"
REUSED_FILE = "responses-reused.parquet"  # sorts after the fetched responses
REUSED_PAIRS_FILE = Path("_state") / "reused_pairs.parquet"  # join keys, removed once copied
STATE_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("identifier_type", pa.string()),
        ("badge_id", pa.string()),
        ("fingerprint", pa.string()),
        ("fetched_on", pa.date32()),
    ]
)
PairKey = tuple[str, str, str]


def fingerprint(entries: list[tuple[str, dict[str, Any]]], meta: bytes | None) -> str:
    """Hash of a pair's list entries (list type and whole entry) and its badge's meta stamp."""
    digest = hashlib.blake2b(digest_size=16)
    for list_type, entry in sorted(entries, key=lambda item: item[0]):
        digest.update(list_type.encode())
        digest.update(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS))
    digest.update(meta if meta is not None else b"no meta")
    return digest.hexdigest()


def meta_stamp(meta: dict[str, Any]) -> bytes:
    return orjson.dumps([meta.get(k) for k in ("lastUpdatedOn", "issuedCount", "earnedCount")])


def refresh_slot(key: PairKey, refresh_days: int) -> int:
    return zlib.crc32("|".join(key).encode()) % refresh_days


@dataclass(frozen=True)
class PreviousSnapshot:
    snapshot_date: dt.date
    raw_dir: Path


def previous_snapshot(lake: Lake, snapshot_date: dt.date) -> PreviousSnapshot | None:
    """The latest archived snapshot up to this date that recorded fingerprints."""
    for day in reversed(lake.raw_dates()):
        if day <= snapshot_date and (lake.raw_dir(day) / STATE_FILE).exists():
            return PreviousSnapshot(day, lake.raw_dir(day))
    return None


class DetailPlan:
    """Decides fetch-or-reuse per pair and records what was decided for the next night."""

    def __init__(
        self,
        snapshot_date: dt.date,
        building_dir: Path,
        previous: PreviousSnapshot | None,
        refresh_days: int = 7,
        full_refresh: bool = False,
    ) -> None:
        if refresh_days < 1:
            raise ValueError(f"refresh_days must be at least 1, got {refresh_days}")
        self.snapshot_date = snapshot_date
        self.building_dir = building_dir
        self.previous = None if full_refresh else previous
        self.refresh_days = refresh_days
        self.reused = 0
        self._today_slot = snapshot_date.toordinal() % refresh_days
        self._known = self._load_previous()
        (building_dir / STATE_FILE).parent.mkdir(parents=True, exist_ok=True)
        self._state = _StateRows(building_dir / STATE_FILE)
        self._reused_pairs = _StateRows(building_dir / REUSED_PAIRS_FILE)

    def _load_previous(self) -> dict[PairKey, tuple[str, dt.date]]:
        if self.previous is None:
            return {}
        table = pq.read_table(self.previous.raw_dir / STATE_FILE)
        customer_id, identifier_type, badge_id, print_, fetched_on = (
            table.column(name).to_pylist() for name in STATE_SCHEMA.names
        )
        keys = zip(customer_id, identifier_type, badge_id, strict=True)
        return dict(zip(keys, zip(print_, fetched_on, strict=True), strict=True))

    def reusable(self, customer: CustomerRef, badge_id: str, print_: str) -> bool:
        key = _key(customer, badge_id)
        known = self._known.get(key)
        if known is None or known[0] != print_:
            return False
        age = (self.snapshot_date - known[1]).days
        if age >= self.refresh_days:
            return False
        return age == 0 or refresh_slot(key, self.refresh_days) != self._today_slot

    def fetched(self, customer: CustomerRef, badge_id: str, print_: str) -> None:
        self._state.add((*_key(customer, badge_id), print_, self.snapshot_date))

    def reuse(self, customer: CustomerRef, badge_id: str, print_: str) -> None:
        key = _key(customer, badge_id)
        row = (*key, print_, self._known[key][1])
        self._state.add(row)
        self._reused_pairs.add(row)
        self.reused += 1

    def finish(self) -> None:
        """Writes the fingerprints and copies the reused details into the new archive."""
        self._state.close()
        self._reused_pairs.close()
        if self.reused and self.previous and any(self.previous.raw_dir.glob("*.parquet")):
            self._copy_reused()
        (self.building_dir / REUSED_PAIRS_FILE).unlink()

    def _copy_reused(self) -> None:
        keys = self.building_dir / REUSED_PAIRS_FILE
        columns = ", ".join(
            "k.fetched_on AS reused_from" if name == "reused_from" else f"r.{name}"
            for name in RAW_SCHEMA.names
        )
        source = (self.previous.raw_dir / "*.parquet").as_posix()
        target = (self.building_dir / REUSED_FILE).as_posix()
        with duckdb.connect() as con:
            con.execute(
                f"""COPY (
                    SELECT DISTINCT ON (r.customer_id, r.identifier_type, r.badge_id) {columns}
                    FROM read_parquet('{source}') AS r
                    JOIN read_parquet('{keys.as_posix()}') AS k
                      USING (customer_id, identifier_type, badge_id)
                    WHERE r.endpoint = '{ENDPOINT_DETAIL}' AND r.ok
                ) TO '{target}' (FORMAT parquet, COMPRESSION zstd)"""
            )


class _StateRows:
    """Rows of STATE_SCHEMA appended to a Parquet file in bounded batches."""

    def __init__(self, path: Path, batch_rows: int = 10_000) -> None:
        self._writer = pq.ParquetWriter(path, STATE_SCHEMA)
        self._rows: list[tuple[str, str, str, str, dt.date]] = []
        self._batch_rows = batch_rows

    def add(self, row: tuple[str, str, str, str, dt.date]) -> None:
        self._rows.append(row)
        if len(self._rows) >= self._batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            columns = list(zip(*self._rows, strict=True))
            self._writer.write_table(pa.table(columns, schema=STATE_SCHEMA))
            self._rows.clear()

    def close(self) -> None:
        self._flush()
        self._writer.close()


def _key(customer: CustomerRef, badge_id: str) -> PairKey:
    return (customer.customer_id, customer.identifier_type, badge_id)
