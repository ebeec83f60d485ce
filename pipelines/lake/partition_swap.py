"""Writing a snapshot's tables as Parquet partitions that replace the old ones whole.

Every table is written into a hidden temporary sibling of its partition directory
(`lake/<table>/.tmp-<date>-<token>/part-0.parquet`). Only when all tables are
complete are the partitions swapped in, one rename each; a crash before that leaves
the previous partitions untouched, and leftovers are cleaned up by the next run.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lake.durable import fsync_path
from pipelines.lake.layout import PARTITION, Lake
from pipelines.lake.mirror import mark_pending
from pipelines.lake.tables import Table

PART_NAME = "part-{part}.parquet"  # one file per writer of a partition
TEMP_PREFIX = ".tmp-"
OLD_PREFIX = ".old-"


class PartWriter:
    """One Parquet file of a temporary partition, written in row groups, fsynced on close."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self._schema = schema
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(
            table if table.schema == self._schema else table.cast(self._schema)
        )

    def close(self) -> None:
        self._writer.close()
        fsync_path(self.path)

    def abort(self) -> None:
        self._writer.close()


class SnapshotPartitions:
    """Temporary partition directories of one snapshot date and their atomic swap-in."""

    def __init__(
        self, lake: Lake, snapshot_date: dt.date, tables: list[Table], token: str | None = None
    ) -> None:
        """`token` names the temporary directories of partitions prepared elsewhere (another
        process writing parts of them); by default they are this object's own."""
        self.lake = lake
        self.snapshot_date = snapshot_date
        self.tables = tables
        self.token = token or f"{snapshot_date.isoformat()}-{uuid.uuid4().hex[:12]}"

    def temp_dir(self, table: Table) -> Path:
        return self.lake.lake_dir / table.name / f"{TEMP_PREFIX}{self.token}"

    def part_path(self, table: Table, part: int = 0) -> Path:
        """The file of one writer of the table's temporary partition."""
        return self.temp_dir(table) / PART_NAME.format(part=part)

    def prepare(self) -> dict[str, Path]:
        """Cleans leftovers of crashed runs for this date and creates fresh temp dirs."""
        paths = {}
        for table in self.tables:
            self._recover(table)
            self.temp_dir(table).mkdir(parents=True)
            paths[table.name] = self.part_path(table)
        return paths

    def publish(self) -> None:
        """Moves every complete temp dir over its partition directory."""
        for table in self.tables:
            target = self.lake.table_dir(table.name, self.snapshot_date)
            old = target.parent / f"{OLD_PREFIX}{self.token}"
            if target.exists():
                target.rename(old)
            self.temp_dir(table).rename(target)
            fsync_path(target.parent)
            shutil.rmtree(old, ignore_errors=True)
        mark_pending(self.lake, self.snapshot_date)

    def discard(self) -> None:
        for table in self.tables:
            shutil.rmtree(self.temp_dir(table), ignore_errors=True)

    def _recover(self, table: Table) -> None:
        recover_partitions(self.lake.lake_dir / table.name, self.snapshot_date.isoformat())


def recover_partitions(table_root: Path, date: str = "") -> None:
    """Removes a table's stale temp dirs (of `date`, or of every date when empty) and
    restores a partition a crash left moved aside."""
    if not table_root.is_dir():
        return
    for stale in sorted(table_root.glob(f"{TEMP_PREFIX}{date}*")):
        shutil.rmtree(stale, ignore_errors=True)
    for old in sorted(table_root.glob(f"{OLD_PREFIX}{date}*")):
        stamp = old.name.removeprefix(OLD_PREFIX)[: len("YYYY-MM-DD")]
        target = table_root / f"{PARTITION}{stamp}"
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.rename(target)
