"""Incremental nights: reuse a (customer, badge) detail when nothing about the pair changed.

The API has no change feed, and the detail call is one per pair, so it is the call to
save. A pair's fingerprint hashes its entry in every list it appears in (the entries
digest, kept with the checkpoint) and its badge's definition stamp (its meta as
answered). Both leave out what is the badge's and not the pair's:

- the badge's running totals (`issuedCount`, `earnedCount`), which another customer's
  earn or issual moves;
- the keys that describe the badge (`BADGE_DESCRIPTION_KEYS`: name, description,
  images, group, rank, ...) and when it was last updated. The same in every customer's
  detail of the badge, and nothing of a customer depends on them: the normalizer takes
  them from tonight's detail of the badge (`pipelines.normalize.badge_level`).

So activity elsewhere on the badge, or a new description, refetches no pair of that
badge; a change of anything else of its definition (expiry rules, constraints, dates,
status), by `PUT badgeMeta` or by time, refetches them all. A pair is fetched again when

- its fingerprint differs from the last snapshot's, or it is new,
- its customer is in the active-customers file (an issual given or revoked shows in no
  list entry, so the operator's word on who had activity is taken),
- it is due by age: no detail gets older than N days (N = `refresh_days`). So that about
  1/N of the pairs are refreshed each night, each pair has a slot,
  `crc32("customer|identifier|badge") % N`, the nights whose `date.toordinal() % N`
  equals it. A pair fetched on a crowded night (one that fetched more than 1.5/N of the
  pairs: a first night, a full refresh) is refreshed on its next slot night, which
  spreads that night's pairs over the next N. One fetched on a quiet night, for its own
  activity, is refreshed N days later: its fetch counts as its refresh, and quiet nights'
  fetches are spread already,
- it stands for its badge tonight: when none of a badge's pairs of tonight's customers
  is fetched otherwise, the first of them is, so every badge has a detail of tonight,
- the night it was fetched has no archive any more to copy it from,
- or the run is a full refresh (the last snapshot's fingerprints still tell the plan
  which pairs there are).

Otherwise its detail response is copied from the archive of the night it was really
fetched, marked with that day (`reused_from`). The badge-level constraint statistics a
detail carries (the badge's current cycle counts) are the badge's too: the normalizer
takes them from tonight's detail of the badge, so a reused detail never carries stale
badge-level counts. A change of the pair that shows neither in its lists nor in the
active-customers file is picked up within `refresh_days`. Each snapshot archive keeps
every pair's fingerprint (`pipelines.lake.nightrecord`) (pairs of customers not fetched
that night carried over from the night before).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from pipelines.client.endpoints import (
    BADGE_DESCRIPTION_KEYS,
    BADGE_STATISTICS_KEYS,
    BADGE_UPDATE_KEYS,
    DETAIL_ENDPOINT,
)
from pipelines.lake import Lake
from pipelines.lake.durable import write_parquet
from pipelines.lake.keys import CustomerKey, PairKey
from pipelines.lake.nightrecord import (
    FINGERPRINT_SCHEMA,
    FINGERPRINTS_FILE,
    has_fingerprints,
    read_fingerprints,
    write_fingerprints,
)
from pipelines.lake.raw import BATCH_ROWS, RAW_SCHEMA
from pipelines.lake.sql import parquet_source, sql_string

REUSED_FILE = "responses-reused.parquet"  # sorts after the fetched responses
# What a badge meta carries beside its definition: totals, description, last update.
NOT_DEFINITION_KEYS = BADGE_STATISTICS_KEYS | BADGE_DESCRIPTION_KEYS | BADGE_UPDATE_KEYS


def entries_digest(entries: list[tuple[str, dict[str, Any]]]) -> bytes:
    """Digest of a pair's list entries: each list type with its entry, but for the keys
    that describe the badge."""
    digest = hashlib.blake2b(digest_size=16)
    for list_type, entry in sorted(entries, key=lambda item: item[0]):
        digest.update(list_type.encode())
        digest.update(_canonical(entry, BADGE_DESCRIPTION_KEYS))
    return digest.digest()


def fingerprint(entries: bytes, meta: bytes | None) -> str:
    """The pair's fingerprint: its entries digest and its badge's definition stamp."""
    digest = hashlib.blake2b(entries, digest_size=16)
    digest.update(meta if meta is not None else b"no meta")
    return digest.hexdigest()


def meta_stamp(meta: dict[str, Any]) -> bytes:
    """The badge's definition stamp: its meta without its running totals, its description
    and its last update (see the module docstring)."""
    return hashlib.blake2b(_canonical(meta, NOT_DEFINITION_KEYS), digest_size=16).digest()


def _canonical(answer: dict[str, Any], left_out: frozenset[str]) -> bytes:
    """The answer's JSON without the `left_out` keys, in key order."""
    kept = {key: value for key, value in answer.items() if key not in left_out}
    return orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)


CROWDED_SHARE = 1.5  # a night that fetched more than this many nights' share of pairs


def refresh_slot(key: PairKey, refresh_days: int) -> int:
    return zlib.crc32("|".join(key).encode()) % refresh_days


def crowded_nights(fetched_on: Iterable[dt.date], refresh_days: int) -> set[dt.date]:
    """The nights that fetched more than CROWDED_SHARE nights' share of these details."""
    nights = Counter(fetched_on)
    share = CROWDED_SHARE * sum(nights.values()) / refresh_days
    return {night for night, count in nights.items() if count > share}


@dataclass(frozen=True)
class PreviousSnapshot:
    snapshot_date: dt.date
    raw_dir: Path


def previous_snapshot(lake: Lake, snapshot_date: dt.date) -> PreviousSnapshot | None:
    """The latest archived snapshot up to this date that recorded fingerprints."""
    for day in reversed(lake.raw_dates()):
        if day <= snapshot_date and has_fingerprints(lake.raw_dir(day)):
            return PreviousSnapshot(day, lake.raw_dir(day))
    return None


def known_details(previous: PreviousSnapshot | None) -> dict[PairKey, tuple[str, dt.date]]:
    """The last snapshot's fingerprints: pair -> (fingerprint, the night it was fetched)."""
    return read_fingerprints(previous.raw_dir) if previous else {}


class DetailPlan:
    """Decides fetch-or-reuse per pair against the last snapshot's fingerprints (`known`:
    pair -> its fingerprint and the night its detail was fetched); `archived` holds the
    dates whose archive is there to copy a detail from."""

    def __init__(
        self,
        snapshot_date: dt.date,
        known: Mapping[PairKey, tuple[str, dt.date]],
        archived: Collection[dt.date],
        refresh_days: int = 7,
        full_refresh: bool = False,
    ) -> None:
        if refresh_days < 1:
            raise ValueError(f"refresh_days must be at least 1, got {refresh_days}")
        self.snapshot_date = snapshot_date
        self.full_refresh = full_refresh
        self.refresh_days = refresh_days
        self._today_slot = snapshot_date.toordinal() % refresh_days
        self._known = known
        self._archived = frozenset(archived)
        self._crowded = crowded_nights((night for _, night in known.values()), refresh_days)
        self._active: set[CustomerKey] = set()
        self._for_badge: set[PairKey] = set()  # fetched to stand for their badge tonight

    def plan_tonight(self, fetched: set[CustomerKey], active: set[CustomerKey]) -> None:
        """Tonight's customers: the `active` ones' pairs are due, and each badge of the
        `fetched` customers' pairs gets one pair fetched when none of them is due."""
        self._active = set(active)
        self._for_badge = set()
        stands_in: dict[str, PairKey] = {}
        fresh: set[str] = set()
        for key in self._known:
            badge = key[2]
            if key[:2] not in fetched or badge in fresh:
                continue
            if self.due(key):
                fresh.add(badge)
            elif badge not in stands_in or key < stands_in[badge]:
                stands_in[badge] = key
        self._for_badge = {key for badge, key in stands_in.items() if badge not in fresh}

    def known(self, key: PairKey) -> tuple[str, dt.date] | None:
        return self._known.get(key)

    def known_pairs(self) -> list[PairKey]:
        return list(self._known)

    def due(self, key: PairKey) -> bool:
        """Whether a known pair is fetched tonight whatever its fingerprint: its customer is
        active, it stands for its badge, by age, on its slot night after a crowded night, or
        because the night it was fetched has no archive to copy from."""
        if key[:2] in self._active or key in self._for_badge:
            return True
        fetched_on = self._known[key][1]
        age = (self.snapshot_date - fetched_on).days
        if self.full_refresh or age >= self.refresh_days or not self.has_archive(fetched_on):
            return True
        on_slot = refresh_slot(key, self.refresh_days) == self._today_slot
        return age > 0 and on_slot and fetched_on in self._crowded

    def reusable(self, key: PairKey, print_: str) -> bool:
        known = self._known.get(key)
        return known is not None and known[0] == print_ and not self.due(key)

    def has_archive(self, day: dt.date) -> bool:
        """Whether the archive of `day` is there to copy a detail from."""
        return day in self._archived


def seal_detail_state(
    building_dir: Path,
    decision_files: list[Path],
    previous: PreviousSnapshot | None,
    carried: pa.Table,
) -> None:
    """Writes the night's fingerprints: its decisions, plus the last snapshot's rows of the
    `carried` customers (customer_id, identifier_type), those not fetched tonight."""
    columns = ", ".join(FINGERPRINT_SCHEMA.names)
    parts = [f"SELECT {columns} FROM {parquet_source(decision_files)}"] if decision_files else []
    with duckdb.connect() as con:
        if previous is not None and carried.num_rows:
            con.register("carried", carried)
            parts.append(
                f"SELECT {columns} FROM {parquet_source([previous.raw_dir / FINGERPRINTS_FILE])} "
                "SEMI JOIN carried USING (customer_id, identifier_type)"
            )
        if not parts:
            write_fingerprints(building_dir, FINGERPRINT_SCHEMA.empty_table())
            return
        write_fingerprints(building_dir, con.sql(" UNION ALL ".join(parts)).to_arrow_reader())


def copy_reused_details(
    building_dir: Path,
    decision_files: list[Path],
    lake: Lake,
    on_batch: Callable[[pa.Table], None] | None = None,
) -> bool:
    """Copies each reused detail's response from the archive of the night it was fetched
    into the new archive (REUSED_FILE), marked `reused_from`; whether there were any.
    `on_batch` sees the copied records as they are written."""
    if not decision_files:
        return False
    with duckdb.connect() as con:
        con.execute(
            "CREATE TEMP TABLE reused AS SELECT customer_id, identifier_type, badge_id, "
            f"fetched_on FROM {parquet_source(decision_files)} WHERE reused"
        )
        days = [row[0] for row in con.execute("SELECT DISTINCT fetched_on FROM reused").fetchall()]
        files = [f for day in days for f in lake.raw_files(day)]
        if not files:
            return False
        columns = ", ".join(
            "k.fetched_on AS reused_from" if name == "reused_from" else f"r.{name}"
            for name in RAW_SCHEMA.names
        )
        reader = con.sql(
            f"""SELECT DISTINCT ON (r.customer_id, r.identifier_type, r.badge_id) {columns}
                FROM read_parquet([{", ".join(sql_string(f) for f in files)}],
                                  hive_partitioning = true, union_by_name = true,
                                  hive_types = {{'snapshot_date': DATE}}) AS r
                JOIN reused AS k
                  ON k.customer_id = r.customer_id AND k.identifier_type = r.identifier_type
                 AND k.badge_id = r.badge_id AND k.fetched_on = r.snapshot_date
                WHERE r.endpoint = '{DETAIL_ENDPOINT.name}' AND r.ok"""
        ).to_arrow_reader(BATCH_ROWS)
        target = building_dir / REUSED_FILE
        return write_parquet(reader, target, RAW_SCHEMA, skip_empty=True, on_batch=on_batch) > 0
