"""Reading the raw archive for normalization: records built column by column.

`pipelines.raw.iter_raw_batches` builds each record from a dict of every column,
converting `received_at` into a datetime on the way. The normalizer does not need
`received_at`, so it reads the other columns only and builds records positionally;
that field stays None.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lake.raw import BATCH_ROWS, RAW_SCHEMA, RawRecord

NOT_NEEDED = ("received_at",)
NEEDED_COLUMNS = [name for name in RAW_SCHEMA.names if name not in NOT_NEEDED]
# Positional construction relies on the needed columns being RawRecord's leading fields.
assert RAW_SCHEMA.names[: len(NEEDED_COLUMNS)] == NEEDED_COLUMNS


def iter_records(raw_dir: Path, batch_size: int = BATCH_ROWS) -> Iterator[RawRecord]:
    """Every archived record of a snapshot directory, file by file, in archive order."""
    for path in sorted(raw_dir.glob("*.parquet")):
        parquet = pq.ParquetFile(path)
        if not set(NEEDED_COLUMNS) <= set(parquet.schema_arrow.names):
            yield from _records_by_name(path, batch_size)
            continue
        for batch in parquet.iter_batches(batch_size=batch_size, columns=NEEDED_COLUMNS):
            yield from records_of_table(batch)


def _records_by_name(path: Path, batch_size: int) -> Iterator[RawRecord]:
    """A file lacking some column, read as `iter_raw_batches` does (missing fields: defaults)."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
        for row in batch.to_pylist():
            yield RawRecord(**row)


def records_of_table(table: pa.Table | pa.RecordBatch) -> Iterator[RawRecord]:
    """The records of an in-memory batch of the raw archive (RAW_SCHEMA columns, any order)."""
    return map(RawRecord, *(table.column(name).to_pylist() for name in NEEDED_COLUMNS))
