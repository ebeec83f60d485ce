"""How the warehouse build opens DuckDB: a memory limit, a thread count and a spill directory.

DuckDB's own defaults are 80% of the machine's memory and one thread per core, with
spill files beside the database; then the build grows with the snapshot until the
machine runs out. Set on purpose instead, a query past the limit spills to
`Lake.spill_dir` (in the staging area, so a failed night's leftovers go with it).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.lake.dbfiles import copy_database, remove_database
from pipelines.lake.layout import Lake

# The storage format of every file the build creates, and so of the published warehouse:
# DuckDB 1.4's (file version 67), which DuckDB 1.4, 1.5 and 2.0 read, so the DuckDB CLI
# on PyPI (`duckdb-cli`, 1.5) and the Python packages analysts pin open it. DuckDB 2.0's
# own format is readable by 2.0 only. See docs/warehouse.md.
STORAGE_VERSION = "v1.4.0"
STORAGE_VERSION_NUMBER = 67
_HEADER = struct.Struct("<8s4sQ")  # checksum, b"DUCK", the file's version number


@dataclass(frozen=True)
class EngineSettings:
    memory_limit: str  # a DuckDB size, e.g. 2GiB
    threads: int
    temp_directory: Path

    def config(self) -> dict[str, str]:
        return {
            "memory_limit": self.memory_limit,
            "threads": str(self.threads),
            "temp_directory": str(self.temp_directory),
            "storage_compatibility_version": STORAGE_VERSION,
        }


def engine_settings(lake: Lake) -> EngineSettings:
    """The lake's limits (`Lake.engine`), spilling to its spill directory."""
    return EngineSettings(lake.engine.memory_limit, lake.engine.threads, lake.spill_dir)


def connect(
    lake: Lake, database: Path | None = None, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to `database` (in memory when None) under the engine settings."""
    settings = engine_settings(lake)
    settings.temp_directory.mkdir(parents=True, exist_ok=True)
    target = ":memory:" if database is None else str(database)
    return duckdb.connect(target, read_only=read_only, config=settings.config())


def storage_version_number(database: Path) -> int:
    """The version number in a DuckDB file's header (DuckDB 2.0's own format: 999)."""
    with database.open("rb") as file:
        _, magic, number = _HEADER.unpack(file.read(_HEADER.size))
    if magic != b"DUCK":
        raise ValueError(f"{database} is not a DuckDB database file")
    return number


def copy_in_storage_version(source: Path, target: Path) -> None:
    """Copies the closed database `source` to `target` in `STORAGE_VERSION`: a plain copy
    when it is in that format already, else its every schema and table rewritten once."""
    if storage_version_number(source) == STORAGE_VERSION_NUMBER:
        copy_database(source, target)
        return
    remove_database(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute("ATTACH ? AS source (READ_ONLY)", [str(source)])
        con.execute(f"ATTACH ? AS target (STORAGE_VERSION '{STORAGE_VERSION}')", [str(target)])
        con.execute("COPY FROM DATABASE source TO target")
