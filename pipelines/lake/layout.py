"""Where a snapshot's files live under the data directory (`BADGES_DATA_DIR`)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = "./data"
PARTITION = "snapshot_date="  # Hive-style: lake/<table>/snapshot_date=YYYY-MM-DD/


@dataclass(frozen=True)
class Lake:
    root: Path

    @classmethod
    def from_env(cls) -> Lake:
        return cls(Path(os.environ.get("BADGES_DATA_DIR") or DEFAULT_DATA_DIR).resolve())

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
        return self.table_dir("raw", snapshot_date)

    def building_dir(self, snapshot_date: dt.date) -> Path:
        """Where the night of `snapshot_date` builds (and checkpoints) its archive."""
        raw_dir = self.raw_dir(snapshot_date)
        return raw_dir.with_name(raw_dir.name + ".building")

    def raw_files(self, snapshot_date: dt.date) -> list[Path]:
        """The archive's response files of a date, in archive order."""
        return sorted(self.raw_dir(snapshot_date).glob("*.parquet"))

    def table_dir(self, table: str, snapshot_date: dt.date) -> Path:
        return self.lake_dir / table / f"{PARTITION}{snapshot_date.isoformat()}"

    def table_files(self, table: str, snapshot_date: dt.date) -> list[Path]:
        """The Parquet files of a table's partition (none when it has no partition)."""
        return sorted(self.table_dir(table, snapshot_date).glob("*.parquet"))

    def partition_dates(self, table: str) -> list[dt.date]:
        """Dates with a complete partition of `table` ("raw": the archive), oldest first."""
        root = self.lake_dir / table
        if not root.is_dir():
            return []
        return sorted(
            dt.date.fromisoformat(p.name.removeprefix(PARTITION))
            for p in root.iterdir()
            if p.is_dir() and p.name.startswith(PARTITION) and "." not in p.name
        )

    def raw_dates(self) -> list[dt.date]:
        return self.partition_dates("raw")
