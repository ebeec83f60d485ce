"""One raw record at a time into deduplicated rows of the contract tables, and the report.

Each answer goes to the flattener of its endpoint; an answer that cannot be used (no
JSON, no data, no id to key its rows on) is a row of `extract_errors` instead. Rows
whose natural key the snapshot already has are dropped and counted; the drift of the
rows kept is counted (`pipelines.normalize.drift`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from pipelines.client.endpoints import DETAIL_ENDPOINT, LIST_ENDPOINT, META_ENDPOINT
from pipelines.client.errors import BAD_BODY
from pipelines.lake.raw import RawRecord
from pipelines.lake.tables import BADGES, CUSTOMER_BADGE_DETAILS, CUSTOMER_BADGES, EXTRACT_ERRORS
from pipelines.normalize.badge_level import BadgeLevelRows
from pipelines.normalize.dedup import DEDUP_KEYS, DIGEST_OF_TABLE
from pipelines.normalize.drift_tracker import DriftTracker
from pipelines.normalize.flatten import (
    UNKEYED,
    Rows,
    flatten_badge_meta,
    flatten_customer_badge_detail,
    flatten_customer_badge_list,
    flatten_error,
)
from pipelines.normalize.reader import parse_json
from pipelines.normalize.repeats import RepeatResolver, content_hash

COUNTERS = (
    "warnings",
    "duplicates",
    "new_keys",
    "wrong_types",
    "repeats",
    "conflicts",
    "disagreements",
    "objects",
    "unmapped",
)
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
    # entries the vendor repeated (`pipelines.normalize.repeats`) and values a second name
    # or twin gave otherwise than the column's, by source path
    repeats: Counter[str] = field(default_factory=Counter)
    conflicts: Counter[str] = field(default_factory=Counter)
    disagreements: Counter[str] = field(default_factory=Counter)
    drift_samples: dict[str, str] = field(default_factory=dict)
    # objects per source path, and those that filled no typed column (`Coverage`)
    objects: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)
    unmapped_keys: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, part: NormalizeReport) -> None:
        """Adds the counts of a part normalized into the same partitions."""
        self.records_read += part.records_read
        self.rows = {name: rows + part.rows.get(name, 0) for name, rows in self.rows.items()}
        for counts in COUNTERS:
            getattr(self, counts).update(getattr(part, counts))
        for path, sample in part.drift_samples.items():
            self.drift_samples.setdefault(path, sample)
        for path, keys in part.unmapped_keys.items():
            mine = self.unmapped_keys.setdefault(path, {})
            for key, count in keys.items():
                mine[key] = mine.get(key, 0) + count


class UnusableBody(ValueError):
    """A successful response whose body cannot be normalized."""

    def __init__(self, message: str, error_code: str = BAD_BODY) -> None:
        super().__init__(message)
        self.error_code = error_code


class RecordNormalizer:
    """Turns raw records into deduplicated rows, keeping the counts for the report."""

    def __init__(self, snapshot_date: dt.date) -> None:
        self.snapshot_date = snapshot_date
        self.report = NormalizeReport(snapshot_date)
        self._seen: dict[str, set[bytes]] = {name: set() for name in DEDUP_KEYS}
        self.badge_level = BadgeLevelRows()
        report = self.report
        self._drift = DriftTracker(report)
        self._repeats = RepeatResolver(
            report.warnings, report.repeats, report.conflicts, report.drift_samples
        )
        # a list row's key -> the hash of what it says, to tell its repeats on other pages
        self._listed: dict[bytes, int] = {}
        self._conflicts_across_pages: list[dict[str, Any]] = []

    def normalize(self, record: RawRecord) -> Rows:
        self.report.records_read += 1
        if not record.ok:
            return flatten_error(record, self.snapshot_date)
        try:
            rows = self._keyed(record, self._flatten(record))
        except UnusableBody as problem:
            return flatten_error(record, self.snapshot_date, problem.error_code, str(problem))
        self._repeats.resolve(rows, record, self.snapshot_date)
        for error in rows.get(EXTRACT_ERRORS.name, ()):
            error["http_status"], error["attempts"] = record.http_status, record.attempts
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

    def _keyed(self, record: RawRecord, rows: Rows) -> Rows:
        """`rows`, unless the answer's own row has no badge id (its object none, and the
        call named none): then an unusable answer."""
        main_table = MAIN_TABLE.get(record.endpoint)
        if main_table is None or rows[main_table][0]["badge_id"] is not None:
            return rows
        self.report.warnings[f"{main_table}.badge_id: missing"] += 1
        raise UnusableBody("data has no badge id (id), and the call named none", UNKEYED)

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
        if endpoint == LIST_ENDPOINT.name and self._conflicts_across_pages:
            errors = self._conflicts_across_pages
            self._conflicts_across_pages = []
            rows.setdefault(EXTRACT_ERRORS.name, []).extend(errors)
        return rows

    def _keep_new(self, table_name: str, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        if table_name == CUSTOMER_BADGES.name:
            return self._keep_new_listed(rows)
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

    def _keep_new_listed(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """`_keep_new` of list rows: a key met on an earlier page is a repeat of the vendor's
        (counted as one) or, saying something else, a conflicting one (an extract_errors
        row, added to the page's rows by `_deduplicated`)."""
        listed, digest_of = self._listed, DIGEST_OF_TABLE[CUSTOMER_BADGES.name]
        kept = []
        for row in rows:
            digest = digest_of(row)
            said = listed.get(digest)
            if said is None:
                listed[digest] = content_hash(CUSTOMER_BADGES.name, row)
                kept.append(row)
                continue
            self.report.duplicates[CUSTOMER_BADGES.name] += 1
            if said == content_hash(CUSTOMER_BADGES.name, row):
                self._repeats.count_repeat(CUSTOMER_BADGES.name, row)
            else:
                answer = {**row, "endpoint": LIST_ENDPOINT.name}
                conflict = self._repeats.conflict(CUSTOMER_BADGES.name, row, answer)
                self._conflicts_across_pages.append(conflict)
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
