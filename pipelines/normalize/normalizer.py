"""Normalizing one snapshot: the raw archive of a date -> every contract table as Parquet.

Records are streamed in bounded batches, routed by endpoint to the flatteners,
deduplicated on the natural keys the extractor can repeat (a badge fetched twice,
a list entry shifted across pages), buffered per table and written in row groups,
so memory does not grow with the number of records (only the dedup key sets do,
at 16 bytes of digest per key). One record's rows: `pipelines.normalize.record_rows`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from pipelines.lake import Lake
from pipelines.lake.failpoints import failpoint
from pipelines.lake.partition_swap import SnapshotPartitions
from pipelines.lake.raw import BATCH_ROWS, RawRecord, iter_records
from pipelines.lake.tables import TABLES
from pipelines.normalize.carry import CarryForward, carry_forward_of, carry_rows
from pipelines.normalize.record_rows import NormalizeReport, RecordNormalizer
from pipelines.normalize.writer import BufferedTableWriter

__all__ = ["NormalizeReport", "RecordNormalizer", "SnapshotNormalizer", "normalize_snapshot"]


def normalize_snapshot(
    raw_dir: Path,
    lake: Lake,
    snapshot_date: dt.date,
    batch_size: int = BATCH_ROWS,
    flush_rows: int = 20_000,
) -> NormalizeReport:
    """Normalizes the raw archive in `raw_dir` into every contract table's partition of the date.

    The partitions are replaced as a whole once every table is written; rerunning a
    date replaces them again. Raises FileNotFoundError when `raw_dir` does not exist.
    """
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"no raw archive directory {raw_dir}")
    normalizer = SnapshotNormalizer(lake, snapshot_date, flush_rows)
    try:
        normalizer.feed(iter_records(raw_dir, batch_size))
        normalizer.close(carry_forward_of(raw_dir))
    except BaseException:
        normalizer.abort()
        raise
    return normalizer.publish()


class SnapshotNormalizer:
    """Normalizes records as they are fed into temporary partitions of every table.

    `close` completes the Parquet files (carrying customers forward when told to) and
    returns each table's files; `publish` swaps them in as the date's
    partitions; `abort` leaves the previous partitions untouched.
    """

    def __init__(
        self,
        lake: Lake,
        snapshot_date: dt.date,
        flush_rows: int = 20_000,
        shared: SnapshotPartitions | None = None,
        part: int = 0,
    ) -> None:
        """With `shared`, this normalizer writes file `part` of partitions another one
        prepared (and will close and publish); see `pipelines.normalize.shards`."""
        tables = list(TABLES.values())
        self._lake = lake
        self._snapshot_date = snapshot_date
        self._partitions = shared or SnapshotPartitions(lake, snapshot_date, tables)
        if shared is None:
            self._partitions.prepare()
        self._records = RecordNormalizer(snapshot_date)
        self._writers = {
            t.name: BufferedTableWriter(t, self._partitions.part_path(t, part), flush_rows)
            for t in tables
        }
        self._carried: dict[str, int] = {}

    @property
    def partitions(self) -> SnapshotPartitions:
        return self._partitions

    def feed(self, records: Iterable[RawRecord]) -> None:
        writers, normalize = self._writers, self._records.normalize
        for record in records:
            for table_name, rows in normalize(record).items():
                writers[table_name].extend(rows)

    def close(self, carry: CarryForward | None = None) -> dict[str, list[Path]]:
        for writer in self._writers.values():
            writer.close()
        temp_dirs = {name: self._partitions.temp_dir(TABLES[name]) for name in TABLES}
        if carry is not None:
            self._carried = carry_rows(
                self._lake, self._snapshot_date, carry, temp_dirs, self._records.badge_level
            )
        failpoint("normalize")  # every temp Parquet written, no partition swapped yet
        return {name: sorted(d.glob("*.parquet")) for name, d in temp_dirs.items()}

    def abort(self) -> None:
        for writer in self._writers.values():
            writer.abort()
        self._partitions.discard()

    def close_part(self) -> NormalizeReport:
        """Completes this normalizer's files of shared partitions; the report of its part."""
        for writer in self._writers.values():
            writer.close()
        return self._report()

    def publish(self, parts: Iterable[NormalizeReport] = ()) -> NormalizeReport:
        """Swaps the partitions in; the report adds those of the `parts` written into them."""
        self._partitions.publish()
        report = self._report()
        for part in parts:
            report.add(part)
        return report

    def _report(self) -> NormalizeReport:
        report = self._records.report
        report.rows = {
            name: writer.rows_written + self._carried.get(name, 0)
            for name, writer in self._writers.items()
        }
        report.carried = dict(self._carried)
        return report
