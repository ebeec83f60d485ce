"""The raw archive: every API response of a snapshot, as received.

Each call the extractor makes ends as one `RawRecord`: a successful response with its body
bytes untouched, or a failed call with what went wrong (those become `extract_errors`
rows). Records are written as Parquet files under `lake/raw/snapshot_date=D/` (see
`pipelines.lake.checkpoint`), so any snapshot can be normalized again without an API call.
Request headers are never stored: the request is kept as path and query only, which carry
no credentials.

Reading for normalization builds records column by column and positionally, leaving out
`received_at`, which the normalizer does not need (it stays None).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lake.damage import reading


@dataclass
class RawRecord:
    endpoint: str
    request_path: str
    ok: bool
    http_status: int | None = None
    body: bytes | None = None
    customer_id: str | None = None
    identifier_type: str | None = None
    badge_id: str | None = None
    list_type: str | None = None
    page: int | None = None
    attempts: int = 1
    error_code: str | None = None
    error_message: str | None = None
    reused_from: dt.date | None = None  # detail body copied from an earlier snapshot
    received_at: dt.datetime | None = None


BATCH_ROWS = 2000  # records per Parquet row group, read and written

RAW_SCHEMA = pa.schema(
    [
        ("endpoint", pa.string()),
        ("request_path", pa.string()),
        ("ok", pa.bool_()),
        ("http_status", pa.int32()),
        ("body", pa.binary()),
        ("customer_id", pa.string()),
        ("identifier_type", pa.string()),
        ("badge_id", pa.string()),
        ("list_type", pa.string()),
        ("page", pa.int32()),
        ("attempts", pa.int32()),
        ("error_code", pa.string()),
        ("error_message", pa.string()),
        ("reused_from", pa.date32()),
        ("received_at", pa.timestamp("us", tz="UTC")),
    ]
)
assert RAW_SCHEMA.names == [f.name for f in fields(RawRecord)]


def records_to_table(records: list[RawRecord]) -> pa.Table:
    """Records as one Arrow table of RAW_SCHEMA, built column by column."""
    columns: dict[str, list] = {name: [] for name in RAW_SCHEMA.names}
    for record in records:
        for name, values in columns.items():
            values.append(getattr(record, name))
    return pa.table(columns, schema=RAW_SCHEMA)


NOT_NEEDED = ("received_at",)
NEEDED_COLUMNS = [name for name in RAW_SCHEMA.names if name not in NOT_NEEDED]
# Positional construction relies on the needed columns being RawRecord's leading fields.
assert RAW_SCHEMA.names[: len(NEEDED_COLUMNS)] == NEEDED_COLUMNS


def iter_records(raw_dir: Path, batch_size: int = BATCH_ROWS) -> Iterator[RawRecord]:
    """Every archived record of a snapshot directory, file by file, in archive order."""
    for path in sorted(raw_dir.glob("*.parquet")):
        with reading(path):  # a damaged file is named, with its remedy
            yield from _records_of_file(path, batch_size)


def _records_of_file(path: Path, batch_size: int) -> Iterator[RawRecord]:
    parquet = pq.ParquetFile(path)
    if not set(NEEDED_COLUMNS) <= set(parquet.schema_arrow.names):
        yield from _records_by_name(path, batch_size)
        return
    for batch in parquet.iter_batches(batch_size=batch_size, columns=NEEDED_COLUMNS):
        yield from records_of_table(batch)


def _records_by_name(path: Path, batch_size: int) -> Iterator[RawRecord]:
    """A file lacking some column (an older archive): the missing fields take their defaults."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
        for row in batch.to_pylist():
            yield RawRecord(**row)


def records_of_table(table: pa.Table | pa.RecordBatch) -> Iterator[RawRecord]:
    """The records of an in-memory batch of the raw archive (RAW_SCHEMA columns, any order)."""
    return map(RawRecord, *(table.column(name).to_pylist() for name in NEEDED_COLUMNS))


def archived_customers(raw_dir: Path) -> set[tuple[str, str]]:
    """Every (customer_id, identifier_type) the archive holds a record of."""
    table = pq.read_table(raw_dir, columns=["customer_id", "identifier_type"])
    keys = zip(*(table.column(n).to_pylist() for n in table.column_names), strict=True)
    return {key for key in keys if key[0] is not None}
