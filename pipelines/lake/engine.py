"""How the warehouse build opens DuckDB: a memory limit, a thread count and a spill directory.

DuckDB's own defaults are 80% of the machine's memory and one thread per core, with
spill files beside the database; then the build grows with the snapshot until the
machine runs out. Set on purpose instead, a query past the limit spills to
`Lake.spill_dir` (in the staging area, so a failed night's leftovers go with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.lake.layout import Lake


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
