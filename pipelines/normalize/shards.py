"""Normalizing a large archive on every core: shards chosen so that repeated keys meet.

Normalizing is CPU-bound Python, one core per process. A replay of a large archive is
split into shards, each normalized by its own process into its own file of the same
temporary partitions; the first shard runs here, which then carries customers forward
and publishes the partitions as `normalize_snapshot` does.

A record goes to the shard of its badge when it has one (badge meta, details and their
issuals and earns), else of its customer (the lists). Every key the normalizer
deduplicates on can only repeat between records of one badge (meta, details and their
issue and earn ids) or of one customer's lists, so each duplicate is met, and dropped,
in the same shard, in archive order, as in a single process.

Customers are many, so a hash of the customer spreads the lists evenly. Badges are few
and of very different sizes (a hash of 80 badges gave one of two shards 58% of the
bytes), so they are dealt out by their records in the archive, largest first, each to
the shard with the fewest records so far (`badge_shards`).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import zlib
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from pipelines.lake import Lake
from pipelines.lake.damage import reading
from pipelines.lake.failpoints import KILL_AT_VARIABLE
from pipelines.lake.partition_swap import SnapshotPartitions
from pipelines.lake.raw import RawRecord, iter_records
from pipelines.lake.tables import TABLES
from pipelines.normalize.carry import carry_forward_of
from pipelines.normalize.normalizer import NormalizeReport, SnapshotNormalizer, normalize_snapshot

SHARDED_FROM_RECORDS = 100_000  # below this, starting processes costs more than it saves
_SPAWN = multiprocessing.get_context("spawn")


def badge_shards(raw_dir: Path, shards: int) -> dict[str, int]:
    """Each badge's shard: the badges, largest first, each to the shard with the fewest
    records so far (the lists, without a badge, counted evenly over the shards)."""
    with duckdb.connect() as con:
        counts = con.execute(
            "SELECT badge_id, count(*) FROM read_parquet(?, union_by_name = true) "
            "GROUP BY ALL ORDER BY 2 DESC, 1",
            [[str(path) for path in sorted(raw_dir.glob("*.parquet"))]],
        ).fetchall()
    lists = sum(records for badge_id, records in counts if badge_id is None)
    loads = [lists / shards] * shards
    plan = {}
    for badge_id, records in counts:
        if badge_id is not None:
            plan[badge_id] = shard = loads.index(min(loads))
            loads[shard] += records
    return plan


def shard_of(record: RawRecord, shards: int, badges: Mapping[str, int]) -> int:
    if record.badge_id in badges:
        return badges[record.badge_id]
    key = record.badge_id if record.badge_id is not None else record.customer_id
    return zlib.crc32((key or "").encode()) % shards


def records_of_shard(
    raw_dir: Path, shard: int, shards: int, badges: Mapping[str, int]
) -> Iterator[RawRecord]:
    records = iter_records(raw_dir)
    return (record for record in records if shard_of(record, shards, badges) == shard)


def archive_records(raw_dir: Path) -> int:
    """Records of the archive, from the Parquet footers."""
    records = 0
    for path in raw_dir.glob("*.parquet"):
        with reading(path):  # a damaged file is named, with its remedy
            records += pq.ParquetFile(path).metadata.num_rows
    return records


def normalize_workers(raw_dir: Path, configured: int) -> int:
    """The configured processes (`Lake.engine.normalize_workers`), one for a small archive."""
    return configured if archive_records(raw_dir) >= SHARDED_FROM_RECORDS else 1


def normalize_archive(
    raw_dir: Path, lake: Lake, snapshot_date: dt.date, workers: int | None = None
) -> NormalizeReport:
    """`normalize_snapshot` of the archive in `raw_dir`, in `workers` processes (default
    `normalize_workers`); the same tables, rows and report, in other files."""
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"no raw archive directory {raw_dir}")
    shards = workers or normalize_workers(raw_dir, lake.engine.normalize_workers)
    if shards == 1:
        return normalize_snapshot(raw_dir, lake, snapshot_date)
    normalizer = SnapshotNormalizer(lake, snapshot_date)
    badges = badge_shards(raw_dir, shards)
    try:
        with ProcessPoolExecutor(shards - 1, mp_context=_SPAWN) as pool:
            token = normalizer.partitions.token
            others = [
                pool.submit(
                    _normalize_shard, lake.root, raw_dir, snapshot_date, token, (n, shards), badges
                )
                for n in range(1, shards)
            ]
            normalizer.feed(records_of_shard(raw_dir, 0, shards, badges))
            parts = [other.result() for other in others]
        normalizer.close(carry_forward_of(raw_dir))
    except BaseException:
        normalizer.abort()
        raise
    return normalizer.publish(parts)


def _normalize_shard(
    root: Path,
    raw_dir: Path,
    snapshot_date: dt.date,
    token: str,
    shard_of_shards: tuple[int, int],
    badges: Mapping[str, int],
) -> NormalizeReport:
    os.environ.pop(KILL_AT_VARIABLE, None)  # crash points belong to the parent process
    shard, shards = shard_of_shards
    lake = Lake(root)
    shared = SnapshotPartitions(lake, snapshot_date, list(TABLES.values()), token)
    normalizer = SnapshotNormalizer(lake, snapshot_date, shared=shared, part=shard)
    normalizer.feed(records_of_shard(raw_dir, shard, shards, badges))
    return normalizer.close_part()
