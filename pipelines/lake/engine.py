"""How the warehouse build opens DuckDB: a memory limit, a thread count and a spill directory.

DuckDB's own defaults are 80% of the machine's memory and one thread per core, with
spill files beside the database; then the build grows with the snapshot until the
machine runs out. Set on purpose instead, a query past the limit spills to
`Lake.spill_dir` (in the staging area, so a failed night's leftovers go with it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.lake.layout import Lake

MEMORY_LIMIT_VARIABLE = "BADGES_DUCKDB_MEMORY_LIMIT"
THREADS_VARIABLE = "BADGES_DUCKDB_THREADS"
DEFAULT_MEMORY_LIMIT = "2GiB"
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


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
        }


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def engine_settings(lake: Lake, environ: Mapping[str, str] = os.environ) -> EngineSettings:
    """The settings from `BADGES_DUCKDB_MEMORY_LIMIT` and `BADGES_DUCKDB_THREADS` (defaults
    2GiB and the usable cores); raises ValueError naming the variable when one is malformed."""
    memory_limit = environ.get(MEMORY_LIMIT_VARIABLE) or DEFAULT_MEMORY_LIMIT
    if not _SIZE.match(memory_limit):
        raise ValueError(
            f"{MEMORY_LIMIT_VARIABLE} must be a size such as 2GiB or 1500MB, got {memory_limit!r}"
        )
    threads_text = environ.get(THREADS_VARIABLE) or str(usable_cores())
    if not threads_text.strip().isdigit() or int(threads_text) < 1:
        raise ValueError(
            f"{THREADS_VARIABLE} must be a whole number of at least 1, got {threads_text!r}"
        )
    return EngineSettings(memory_limit.strip(), int(threads_text), lake.spill_dir)


def connect(
    lake: Lake, database: Path | None = None, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to `database` (in memory when None) under the engine settings."""
    settings = engine_settings(lake)
    settings.temp_directory.mkdir(parents=True, exist_ok=True)
    target = ":memory:" if database is None else str(database)
    return duckdb.connect(target, read_only=read_only, config=settings.config())
