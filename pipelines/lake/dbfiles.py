"""File-level handling of DuckDB databases: side files, copies, fsync, locks."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.lake.durable import fsync_path


class WarehouseBusyError(RuntimeError):
    """Another process holds the published warehouse open read-write."""


def wal_path(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def temp_dir_path(database: Path) -> Path:
    return database.with_name(database.name + ".tmp")


def remove_database(database: Path) -> None:
    """Deletes a database file with its WAL and spill directory, whichever exist."""
    wal_path(database).unlink(missing_ok=True)
    database.unlink(missing_ok=True)
    shutil.rmtree(temp_dir_path(database), ignore_errors=True)


def copy_database(source: Path, target: Path) -> None:
    """Copies a closed database file, and its WAL when it has one, to `target`."""
    remove_database(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    if wal_path(source).exists():
        shutil.copyfile(wal_path(source), wal_path(target))


def install_database(source: Path, target: Path) -> None:
    """Moves a closed, checkpointed database file over `target` in one rename."""
    if wal_path(source).exists():
        raise RuntimeError(f"{source} still has a WAL; close it before installing it")
    fsync_path(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    fsync_path(target.parent)
    shutil.rmtree(temp_dir_path(source), ignore_errors=True)


@contextlib.contextmanager
def shared_lock(database: Path) -> Iterator[None]:
    """Holds a shared lock on an existing database file, as a read-only DuckDB reader does.

    DuckDB takes an exclusive fcntl lock on a file it opens read-write and a shared one
    for read-only, so while this is held no process can open the file read-write (and
    write its WAL), while analysts' read-only connections are unaffected. fcntl locks
    belong to the process and drop when it closes any descriptor of the file, so do not
    open the same database with DuckDB while holding this.
    """
    if not database.exists():
        yield
        return
    fd = os.open(database, os.O_RDONLY)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as error:
            raise WarehouseBusyError(
                f"{database} is open read-write in another process; not replacing it"
            ) from error
        yield
    finally:
        os.close(fd)


def read_snapshot_date(database: Path) -> dt.date | None:
    """The date in `main.snapshot_info` of a database file, read-only; None if absent."""
    if not database.exists():
        return None
    with duckdb.connect(str(database), read_only=True) as con:
        found = con.execute(
            "SELECT count(*) FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = 'main' "
            "AND table_name = 'snapshot_info'"
        ).fetchone()
        if not found or found[0] == 0:
            return None
        row = con.execute("SELECT max(snapshot_date) FROM main.snapshot_info").fetchone()
    return row[0] if row else None


def read_published_night(database: Path) -> tuple[dt.date, str | None] | None:
    """The snapshot date in `main.snapshot_info` of a database file and the id of the sealed
    night it was loaded from (None for a warehouse that did not record it); None when the
    file holds no snapshot."""
    if not database.exists():
        return None
    with duckdb.connect(str(database), read_only=True) as con:
        columns = {
            name
            for (name,) in con.execute(
                "SELECT column_name FROM duckdb_columns() "
                "WHERE database_name = current_database() AND schema_name = 'main' "
                "AND table_name = 'snapshot_info'"
            ).fetchall()
        }
        if "snapshot_date" not in columns:
            return None
        night_id = "night_id" if "night_id" in columns else "NULL"
        row = con.execute(
            f"SELECT snapshot_date, {night_id} FROM main.snapshot_info "
            "ORDER BY snapshot_date DESC LIMIT 1"
        ).fetchone()
    return (row[0], row[1]) if row else None
