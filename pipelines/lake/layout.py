"""Where a snapshot's files live under the data directory, and what of the host a night may use."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = "./data"
DEFAULT_MEMORY_LIMIT = "2GiB"
PARTITION = "snapshot_date="  # Hive-style: lake/<table>/snapshot_date=YYYY-MM-DD/
RAW = "raw"  # the raw archive sits in the lake like a table
BUILDING_SUFFIX = ".building"


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


@dataclass(frozen=True)
class EngineLimits:
    """What the night's engines may take of the host: DuckDB's memory and threads (see
    `lake.engine`) and the normalizer's processes (see `normalize.shards`)."""

    memory_limit: str = DEFAULT_MEMORY_LIMIT  # a DuckDB size, e.g. 2GiB
    threads: int = field(default_factory=usable_cores)
    normalize_workers: int = field(default_factory=usable_cores)


@dataclass(frozen=True)
class Lake:
    root: Path
    bucket_url: str | None = None  # s3://bucket/prefix: the system of record (lake.mirror)
    engine: EngineLimits = field(default_factory=EngineLimits)

    @property
    def lake_dir(self) -> Path:
        return self.root / "lake"

    @property
    def warehouse_path(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def staging_dir(self) -> Path:
        return self.root / "staging"

    @property
    def spill_dir(self) -> Path:
        """Where DuckDB writes what does not fit its memory limit (see `lake.engine`)."""
        return self.staging_dir / "spill"

    def raw_dir(self, snapshot_date: dt.date) -> Path:
        return self.table_dir(RAW, snapshot_date)

    def building_dir(self, snapshot_date: dt.date) -> Path:
        """Where the night of `snapshot_date` builds (and checkpoints) its archive."""
        raw_dir = self.raw_dir(snapshot_date)
        return raw_dir.with_name(raw_dir.name + BUILDING_SUFFIX)

    def raw_files(self, snapshot_date: dt.date) -> list[Path]:
        """The archive's response files of a date, in archive order."""
        return sorted(self.raw_dir(snapshot_date).glob("*.parquet"))

    def table_root(self, table: str) -> Path:
        return self.lake_dir / table

    def table_dir(self, table: str, snapshot_date: dt.date) -> Path:
        return self.table_root(table) / f"{PARTITION}{snapshot_date.isoformat()}"

    def table_files(self, table: str, snapshot_date: dt.date) -> list[Path]:
        """The Parquet files of a table's partition (none when it has no partition)."""
        return sorted(self.table_dir(table, snapshot_date).glob("*.parquet"))

    def partition_dates(self, table: str) -> list[dt.date]:
        """Dates with a complete partition of `table` ("raw": the archive), oldest first."""
        root = self.table_root(table)
        if not root.is_dir():
            return []
        return sorted(
            dt.date.fromisoformat(p.name.removeprefix(PARTITION))
            for p in root.iterdir()
            if p.is_dir() and p.name.startswith(PARTITION) and "." not in p.name
        )

    def raw_dates(self) -> list[dt.date]:
        return self.partition_dates(RAW)

    def building_dates(self) -> list[dt.date]:
        """Dates with an unfinished archive (a checkpoint a later run resumes), oldest first."""
        root = self.table_root(RAW)
        if not root.is_dir():
            return []
        return sorted(
            dt.date.fromisoformat(p.name.removeprefix(PARTITION).removesuffix(BUILDING_SUFFIX))
            for p in root.glob(f"{PARTITION}*{BUILDING_SUFFIX}")
            if p.is_dir()
        )

    @property
    def history_base_path(self) -> Path:
        """The history as of the newest pruned night, where a history rebuild starts."""
        return self.lake_dir / "history_base.duckdb"

    @property
    def source_record_path(self) -> Path:
        """Which API and org this data directory's nights come from (`lake.source_record`)."""
        return self.lake_dir / "source.json"

    @property
    def retention_record_path(self) -> Path:
        return self.lake_dir / "retention.json"
