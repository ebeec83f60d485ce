"""Publishes a staging warehouse by an atomic rename over `warehouse.duckdb`.

Readers keep `warehouse.duckdb` open read-only. `os.replace` swaps the directory entry
only: an open connection keeps reading the old file's inode, untouched, while any
connection opened afterwards reads the new file. A crash before the rename leaves the
old file published; a crash after it leaves the new one; there is no in-between.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.lake import Lake
from pipelines.lake.dbfiles import (
    read_snapshot_date,
    shared_lock,
    wal_path,
)
from pipelines.lake.durable import fsync_path
from pipelines.lake.engine import connect
from pipelines.lake.failpoints import failpoint
from pipelines.warehouse.loader import staging_path


class StagingStillOpenError(RuntimeError):
    """The staging file is still open read-write, so it cannot be renamed safely."""


@dataclass(frozen=True)
class PublishReport:
    snapshot_date: dt.date
    previous_snapshot_date: dt.date | None
    warehouse_path: Path
    size_bytes: int
    removed_stale_wal: bool


def published_snapshot(lake: Lake) -> dt.date | None:
    """The snapshot date the published warehouse holds, or None when nothing is published."""
    return read_snapshot_date(lake.warehouse_path)


def publish(lake: Lake, snapshot_date: dt.date) -> PublishReport:
    """Checkpoints the staging file of `snapshot_date` and renames it over the warehouse.

    Every connection to the staging file must be closed first (else
    `StagingStillOpenError`): the file is renamed as it is on disk, so anything a
    still-open connection wrote later would land in the published file unseen.
    Raises `WarehouseBusyError` when another process holds the published file read-write.
    """
    staging = staging_path(lake, snapshot_date)
    if not staging.exists():
        raise FileNotFoundError(f"no staging warehouse to publish for {snapshot_date}: {staging}")
    _checkpoint_and_verify(lake, staging, snapshot_date)
    fsync_path(staging)
    target = lake.warehouse_path
    with shared_lock(target):
        pass  # fails fast, before any change, when a writer holds the published file
    previous = published_snapshot(lake)
    with shared_lock(target):
        removed_stale_wal = _remove_stale_wal(target)
        failpoint("publish")  # staging checkpointed, closed and fsynced; not yet renamed
        os.replace(staging, target)
    fsync_path(target.parent)
    if staging.parent != target.parent:
        fsync_path(staging.parent)
    shutil.rmtree(lake.spill_dir, ignore_errors=True)  # what the build spilled, if anything
    return PublishReport(snapshot_date, previous, target, target.stat().st_size, removed_stale_wal)


def _checkpoint_and_verify(lake: Lake, staging: Path, snapshot_date: dt.date) -> None:
    with connect(lake, staging) as con:
        con.execute("CHECKPOINT")
    try:
        # DuckDB shares one open database per path within a process: a read-only open
        # fails exactly when some read-write connection to the file is still open here.
        held = read_snapshot_date(staging)
    except duckdb.ConnectionException as error:
        raise StagingStillOpenError(
            f"a connection to {staging} is still open in this process; close it before publishing"
        ) from error
    if held != snapshot_date:
        raise ValueError(f"staging file {staging} holds snapshot {held}, not {snapshot_date}")
    if wal_path(staging).exists():
        raise StagingStillOpenError(f"{staging} still has a WAL after checkpoint and close")


def _remove_stale_wal(target: Path) -> bool:
    """Removes a WAL left beside the published file by a read-write session that crashed.

    It belongs to the old file: DuckDB refuses to open a database whose WAL does not match
    it ("WAL does not match database file"), so it must go before the new file takes the
    name, or every later reader would fail. The caller holds a shared lock, so no
    read-write session can be writing this WAL now.
    """
    stale = wal_path(target)
    if not stale.exists():
        return False
    stale.unlink()
    return True
