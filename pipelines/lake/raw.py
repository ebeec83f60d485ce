"""The raw archive: every API response of a snapshot, as received.

Each call the extractor makes ends as one `RawRecord`: a successful response with
its body bytes untouched, or a failed call with what went wrong (those become
`extract_errors` rows). Records are appended to Parquet files under
`lake/raw/snapshot_date=D/`, so any snapshot can be normalized again without an
API call. Request headers are never stored: the request is kept as path and
query only, which carry no credentials.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from pipelines.client.errors import ApiCallFailed
    from pipelines.client.http import ApiResponse
    from pipelines.extract.customers import CustomerRef

ENDPOINT_META = "badge_meta"
ENDPOINT_LIST = "customer_badges"
ENDPOINT_DETAIL = "customer_badge_detail"


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
PAGINATION_MISMATCH = "pagination_mismatch"
BAD_BODY_CODE = "bad_body"


def is_answer(record: RawRecord) -> bool:
    """Whether the call got an answer: a body, or the vendor's error envelope about the data.

    The other failed records (transport failures, 5xx, 429 or broken bodies after every
    retry) are calls to make again, never data.
    """
    if record.ok or record.error_code == PAGINATION_MISMATCH:
        return True
    status = record.http_status
    return (
        status is not None
        and 400 <= status < 500
        and status != 429
        and record.error_code != BAD_BODY_CODE
    )


def ok_record(
    endpoint: str, response: ApiResponse, customer: CustomerRef | None, **where: Any
) -> RawRecord:
    """The record of an answered call (its body as received)."""
    return _record(
        endpoint,
        customer,
        request_path=response.path,
        ok=True,
        http_status=response.status,
        body=response.body,
        attempts=response.attempts,
        **where,
    )


def failure_record(
    endpoint: str, exc: ApiCallFailed, customer: CustomerRef | None, **where: Any
) -> RawRecord:
    """The record of a vendor error answer or of a call that failed (its kind as the code)."""
    return _record(
        endpoint,
        customer,
        request_path=exc.path,
        ok=False,
        http_status=exc.http_status,
        body=exc.body,
        attempts=exc.attempts,
        error_code=exc.error_code or (None if exc.answered else exc.kind),
        error_message=exc.message,
        **where,
    )


def _record(endpoint: str, customer: CustomerRef | None, **fields: Any) -> RawRecord:
    return RawRecord(
        endpoint=endpoint,
        customer_id=customer.customer_id if customer else None,
        identifier_type=customer.identifier_type if customer else None,
        received_at=dt.datetime.now(dt.UTC),
        **fields,
    )


def records_to_table(records: list[RawRecord]) -> pa.Table:
    """Records as one Arrow table of RAW_SCHEMA, built column by column."""
    columns: dict[str, list] = {name: [] for name in RAW_SCHEMA.names}
    for record in records:
        for name, values in columns.items():
            values.append(getattr(record, name))
    return pa.table(columns, schema=RAW_SCHEMA)


class RawArchiveWriter:
    """Appends records to one Parquet file, flushing a row group every `batch_size`."""

    def __init__(
        self,
        path: Path,
        batch_size: int = BATCH_ROWS,
        on_batch: Callable[[pa.Table], None] | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._on_batch = on_batch  # sees every batch as it is written
        self._batch_size = batch_size
        self._pending: list[RawRecord] = []
        self._writer = pq.ParquetWriter(path, RAW_SCHEMA, compression="zstd")
        self.records_written = 0
        self.bytes_received = 0

    def append(self, record: RawRecord) -> None:
        self._pending.append(record)
        if record.body:
            self.bytes_received += len(record.body)
        if len(self._pending) >= self._batch_size:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        batch = records_to_table(self._pending)
        self._writer.write_table(batch)
        if self._on_batch is not None:
            self._on_batch(batch)
        self.records_written += len(self._pending)
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        self._writer.close()

    def __enter__(self) -> RawArchiveWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_raw_batches(raw_dir: Path, batch_size: int = BATCH_ROWS) -> Iterator[list[RawRecord]]:
    """Yields the archived records of a snapshot directory in bounded batches."""
    for path in sorted(raw_dir.glob("*.parquet")):
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=batch_size):
            yield [RawRecord(**row) for row in batch.to_pylist()]


def list_totals(raw_dir: Path) -> dict[tuple[str, str, str], int]:
    """What the API said each (customer, identifier type, list type) holds, from the archive.

    Lists answered without a `pagination` block are absent: the API gave no total.
    """
    import duckdb

    query = f"""
        SELECT customer_id, identifier_type, list_type,
               max(TRY_CAST(json_extract(decode(body), '$.data.pagination.total') AS BIGINT))
        FROM read_parquet('{(raw_dir / "*.parquet").as_posix()}')
        WHERE endpoint = '{ENDPOINT_LIST}' AND ok
        GROUP BY ALL
    """
    with duckdb.connect() as con:
        rows = con.execute(query).fetchall()
    return {(c, i, t): total for c, i, t, total in rows if total is not None}
