"""Normalizing one snapshot: the raw archive of a date -> every contract table as Parquet.

Records are streamed in bounded batches, routed by endpoint to the flatteners,
deduplicated on the natural keys the extractor can repeat (a badge fetched twice,
a list entry shifted across pages), buffered per table and written in row groups,
so memory does not grow with the number of records (only the dedup key sets do,
at 16 bytes of digest per key).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from pipelines.client.endpoints import DETAIL_ENDPOINT, LIST_ENDPOINT, META_ENDPOINT
from pipelines.client.errors import BAD_BODY
from pipelines.lake import Lake
from pipelines.lake.failpoints import failpoint
from pipelines.lake.partitions import SnapshotPartitions
from pipelines.lake.raw import BATCH_ROWS, RawRecord, iter_records
from pipelines.lake.tables import (
    BADGES,
    CUSTOMER_BADGE_DETAILS,
    CUSTOMER_BADGES,
    TABLES,
)
from pipelines.normalize.badge_level import BadgeLevelRows
from pipelines.normalize.carry import CarryForward, carry_forward_of, carry_rows
from pipelines.normalize.dedup import DEDUP_KEYS, DIGEST_OF_TABLE
from pipelines.normalize.drift import DriftTracker
from pipelines.normalize.flatten import (
    Rows,
    flatten_badge_meta,
    flatten_customer_badge_detail,
    flatten_customer_badge_list,
    flatten_error,
)
from pipelines.normalize.reader import parse_json
from pipelines.normalize.writer import BufferedTableWriter

# A record whose main row is a duplicate contributes none of its other rows either.
MAIN_TABLE = {
    META_ENDPOINT.name: BADGES.name,
    DETAIL_ENDPOINT.name: CUSTOMER_BADGE_DETAILS.name,
}


@dataclass
class NormalizeReport:
    snapshot_date: dt.date
    records_read: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    warnings: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    carried: dict[str, int] = field(default_factory=dict)  # rows carried forward, per table
    # The drift report (`pipelines.normalize.drift`), by source path.
    new_keys: Counter[str] = field(default_factory=Counter)
    wrong_types: Counter[str] = field(default_factory=Counter)
    drift_samples: dict[str, str] = field(default_factory=dict)

    def add(self, part: NormalizeReport) -> None:
        """Adds the counts of a part normalized into the same partitions."""
        self.records_read += part.records_read
        self.rows = {name: rows + part.rows.get(name, 0) for name, rows in self.rows.items()}
        for counts in ("warnings", "duplicates", "new_keys", "wrong_types"):
            getattr(self, counts).update(getattr(part, counts))
        for path, sample in part.drift_samples.items():
            self.drift_samples.setdefault(path, sample)


class UnusableBody(ValueError):
    """A successful response whose body cannot be normalized."""

    def __init__(self, message: str, error_code: str = BAD_BODY) -> None:
        super().__init__(message)
        self.error_code = error_code


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


class RecordNormalizer:
    """Turns raw records into deduplicated rows, keeping the counts for the report."""

    def __init__(self, snapshot_date: dt.date) -> None:
        self.snapshot_date = snapshot_date
        self.report = NormalizeReport(snapshot_date)
        self._seen: dict[str, set[bytes]] = {name: set() for name in DEDUP_KEYS}
        self.badge_level = BadgeLevelRows()
        report = self.report
        self._drift = DriftTracker(report.new_keys, report.wrong_types, report.drift_samples)

    def normalize(self, record: RawRecord) -> Rows:
        self.report.records_read += 1
        if not record.ok:
            return flatten_error(record, self.snapshot_date)
        try:
            rows = self._flatten(record)
        except UnusableBody as problem:
            return flatten_error(record, self.snapshot_date, problem.error_code, str(problem))
        rows = self.badge_level.apply(record, self._deduplicated(record.endpoint, rows))
        track = self._drift.track
        for table_name, table_rows in rows.items():
            track(table_name, table_rows)
        return rows

    def _flatten(self, record: RawRecord) -> Rows:
        data = _response_data(record.body)
        warnings = self.report.warnings
        if record.endpoint == META_ENDPOINT.name:
            _require_object(data)
            return flatten_badge_meta(data, self.snapshot_date, warnings, record.badge_id)
        if record.endpoint == DETAIL_ENDPOINT.name:
            _require_object(data)
            return flatten_customer_badge_detail(
                self.badge_level.describe(record, data),
                record.customer_id,
                record.identifier_type,
                record.badge_id,
                self.snapshot_date,
                warnings,
                record.reused_from,
            )
        if record.endpoint == LIST_ENDPOINT.name:
            badges = data.get("badges") if isinstance(data, dict) else None
            if not isinstance(badges, list):
                raise UnusableBody("response has no data.badges list")
            self._drift.track_list_page(data)
            return flatten_customer_badge_list(
                badges,
                record.customer_id,
                record.identifier_type,
                record.list_type,
                self._first_position(record, data, warnings),
                self.snapshot_date,
                warnings,
                record.reused_from,
            )
        raise UnusableBody(f"unknown endpoint {record.endpoint!r}", "unknown_endpoint")

    def _first_position(
        self, record: RawRecord, data: dict[str, Any], warnings: Counter[str]
    ) -> int | None:
        """page * page size: the request's `limit`, else the response's pagination.size."""
        pagination = data.get("pagination") if isinstance(data.get("pagination"), dict) else {}
        page = record.page if record.page is not None else pagination.get("page")
        if not page:
            return 0
        size = _limit_of(record.request_path) or pagination.get("size")
        if not isinstance(page, int) or not isinstance(size, int) or size <= 0:
            warnings[f"{CUSTOMER_BADGES.name}.list_position: unknown page size"] += 1
            return None
        return page * size

    def _deduplicated(self, endpoint: str, rows: Rows) -> Rows:
        main_table = MAIN_TABLE.get(endpoint)
        if main_table is not None and not self._keep_new(main_table, rows[main_table]):
            return {}
        for table_name, table_rows in rows.items():
            if table_rows and table_name in DEDUP_KEYS and table_name != main_table:
                rows[table_name] = self._keep_new(table_name, table_rows)
        return rows

    def _keep_new(self, table_name: str, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        seen, digest_of = self._seen[table_name], DIGEST_OF_TABLE[table_name]
        kept = []
        for row in rows:
            digest = digest_of(row)
            if digest in seen:
                self.report.duplicates[table_name] += 1
            else:
                seen.add(digest)
                kept.append(row)
        return kept


def _response_data(body: bytes | None) -> Any:
    if not body:
        raise UnusableBody("response body is empty")
    try:
        envelope = parse_json(body)
    except orjson.JSONDecodeError:
        raise UnusableBody(f"response body is not valid JSON ({len(body)} bytes)") from None
    if not isinstance(envelope, dict):
        raise UnusableBody("response body is not a JSON object")
    data = envelope.get("data")
    if data is None:
        raise _missing_data(envelope.get("errors"))
    return data


def _missing_data(errors: Any) -> UnusableBody:
    """A body without data: the vendor's first error when it sent one, else bad_body."""
    first = errors[0] if isinstance(errors, list) and errors else None
    if isinstance(first, dict) and first.get("code") is not None:
        message = first.get("message")
        return UnusableBody(str(message) if message else "response has no data", str(first["code"]))
    return UnusableBody("response has no data")


def _require_object(data: Any) -> None:
    if not isinstance(data, dict):
        raise UnusableBody("response data is not an object")


def _limit_of(request_path: str | None) -> int | None:
    if not request_path:
        return None
    query = urlsplit(request_path).query
    if "%" in query or "+" in query:  # encoded names or values: let parse_qsl decode them
        pairs = parse_qsl(query)
    else:
        pairs = (part.split("=", 1) for part in query.split("&") if "=" in part)
    for name, value in pairs:
        if name.lower() == "limit" and value.isdigit():
            return int(value)
    return None
