"""Disk space: what a night needs, what the data directory has, and a full disk named.

A night writes its raw archive, the lake partitions of every table and a staging copy of
the warehouse before it swaps them in, while the published ones stay until then. What it
needs is estimated from the newest snapshot's sizes, scaled to tonight's customers; a
first night, with nothing to go on, uses per-customer figures measured on the sandbox.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipelines.lake.datadir import nearest_existing
from pipelines.lake.dbfiles import wal_path
from pipelines.lake.layout import Lake
from pipelines.lake.nightrecord import read_night_note
from pipelines.lake.tables import TABLES

MIB = 1024 * 1024
# Measured per customer on the sandbox's org: the raw archive holds the customers fetched
# that night, the lake tables and the warehouse every customer of the snapshot.
RAW_BYTES_PER_CUSTOMER = 1_250
LAKE_BYTES_PER_CUSTOMER = 570
WAREHOUSE_BYTES_PER_CUSTOMER = 1_500
# Whatever the customers: DuckDB's blocks, schemas and models, and each Parquet file's footer.
FIXED_BYTES = 8 * MIB
MARGIN = 1.25  # nights vary, and DuckDB writes new blocks before it frees the old ones
DISK_FULL_TEXT = "No space left on device"  # how DuckDB and Arrow word ENOSPC


def mib(size: int) -> str:
    return f"{size / MIB:,.1f} MiB"


@dataclass(frozen=True)
class DiskNeed:
    """Bytes one night writes before it swaps them in, and what that estimate rests on."""

    raw: int
    lake: int
    staging: int
    basis: str

    @property
    def total(self) -> int:
        return round((self.raw + self.lake + self.staging) * MARGIN)

    def describe(self) -> str:
        return (
            f"{mib(self.total)} (raw archive {mib(self.raw)}, lake partitions {mib(self.lake)}, "
            f"staging warehouse {mib(self.staging)}, plus {MARGIN - 1:.0%}; {self.basis})"
        )


@dataclass(frozen=True)
class DiskSpace:
    """The data directory's free space against a night's need."""

    root: Path
    free: int
    need: DiskNeed | None  # None: nothing to estimate it from

    @property
    def short(self) -> bool:
        return self.need is not None and self.free < self.need.total

    def describe(self) -> str:
        if self.need is None:
            return f"{mib(self.free)} free in {self.root}; no snapshot yet to estimate a night from"
        return f"{mib(self.free)} free in {self.root}; a night needs {self.need.describe()}"


class NotEnoughSpace(RuntimeError):
    """The data directory has less free space than the night needs; nothing was called."""

    def __init__(self, space: DiskSpace) -> None:
        assert space.need is not None
        super().__init__(
            f"not enough disk space in {space.root}: {mib(space.free)} free, the night needs "
            f"{space.need.describe()}; free space there or move BADGES_DATA_DIR to a larger disk"
        )


class DiskFull(RuntimeError):
    """A write failed for want of space (ENOSPC); the message says where and what to do."""


def free_bytes(lake: Lake) -> int:
    """Free space of the file system holding the data directory (or where it will be)."""
    return shutil.disk_usage(nearest_existing(lake.root)).free


def directory_bytes(path: Path) -> int:
    """Bytes of every file under `path` (0 when it does not exist)."""
    if not path.is_dir():
        return 0
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def _file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, wal_path(path)) if p.exists())


def estimate_need(
    lake: Lake, customers: int | None = None, fetched: int | None = None
) -> DiskNeed | None:
    """What a night of `customers` (`fetched` of them tonight) needs, from the newest
    snapshot scaled to them; without a snapshot, per customer; None when neither is known."""
    dates = lake.raw_dates()
    if not dates:
        if customers is None:
            return None
        return _first_night(customers, customers if fetched is None else fetched)
    last = dates[-1]
    note = read_night_note(lake.raw_dir(last))
    last_customers = note.customers if note else None
    last_fetched = note.customers_fetched if note else None
    lake_bytes = sum(directory_bytes(lake.table_dir(name, last)) for name in TABLES)
    copy = _scaled(_file_bytes(lake.warehouse_path), customers, last_customers)
    return DiskNeed(
        raw=_scaled(directory_bytes(lake.raw_dir(last)), fetched, last_fetched),
        lake=_scaled(lake_bytes, customers, last_customers),
        # The first rebuild of a file grows it most (the blocks it frees are reused only
        # from the next one on): never count less than a first night's warehouse.
        staging=max(copy, _first_warehouse(customers or last_customers or 0)),
        basis=f"from the snapshot of {last}",
    )


def _scaled(size: int, tonight: int | None, last: int | None) -> int:
    """`size` of the last night scaled up by tonight's count against its own, when both are
    known; never down, so that the estimate errs on the side of space."""
    if not tonight or not last:
        return size
    return round(size * max(tonight / last, 1.0))


def _first_warehouse(customers: int) -> int:
    return FIXED_BYTES + WAREHOUSE_BYTES_PER_CUSTOMER * customers


def _first_night(customers: int, fetched: int) -> DiskNeed:
    per_customer = RAW_BYTES_PER_CUSTOMER + LAKE_BYTES_PER_CUSTOMER + WAREHOUSE_BYTES_PER_CUSTOMER
    return DiskNeed(
        raw=RAW_BYTES_PER_CUSTOMER * fetched,
        lake=LAKE_BYTES_PER_CUSTOMER * customers,
        staging=_first_warehouse(customers),
        basis=f"first night: {customers:,} customers at about {per_customer / 1000:.1f} KB each",
    )


def disk_space(lake: Lake, need: DiskNeed | None) -> DiskSpace:
    return DiskSpace(lake.root, free_bytes(lake), need)


def ensure_space(lake: Lake, need: DiskNeed | None) -> None:
    """Raises NotEnoughSpace when the data directory's file system has less free than `need`."""
    space = disk_space(lake, need)
    if space.short:
        raise NotEnoughSpace(space)


def is_disk_full(error: BaseException) -> bool:
    """Whether `error`, an error it was raised from, or one in its group (asyncio's task
    groups gather their tasks' errors) is a write refused for want of space."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:  # a chain may lead back to itself
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return True
        if DISK_FULL_TEXT in str(current):
            return True
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False


def disk_full(lake: Lake, doing: str) -> DiskFull:
    """The error for a full disk while `doing`: the directory, and how much to free there."""
    need = estimate_need(lake)
    total = need.total if need else FIXED_BYTES
    short = total - free_bytes(lake)
    return DiskFull(
        f"no space left on device in {lake.root} while {doing}: free at least "
        f"{mib(short if short > 0 else total)} there or move BADGES_DATA_DIR to a larger disk"
    )


@contextmanager
def naming_a_full_disk(
    lake: Lake, doing: str, give_back: Callable[[], None] | None = None
) -> Iterator[None]:
    """Turns a full disk inside the block into DiskFull, after `give_back` freed what the
    block wrote; any other error passes through untouched."""
    try:
        yield
    except DiskFull:
        raise
    except Exception as error:
        if not is_disk_full(error):
            raise
        if give_back is not None:
            give_back()
        raise disk_full(lake, doing) from error
