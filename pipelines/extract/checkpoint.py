"""A night's archive as it is built: checkpointed as it goes, so a stopped run resumes.

The archive of date D is built in `lake/raw/snapshot_date=D.building/` and moved into
place only when the night is complete and passed its gates. While it is built:

- `responses-NNNNNN.parquet`: complete Parquet files of raw records, one per checkpoint
  (every `BATCH_ROWS` records or `CHECKPOINT_SECONDS`), each written to a temporary
  name, fsynced and renamed, so a killed run leaves only whole files. A unit (every page
  of one list, one detail) never spans two files.
- `_state/pairs-NNNNNN.parquet`: one row per (customer, badge) of each customer whose
  four lists are complete, with the digest of its list entries (a customer without any
  badge gets one row with no badge); a customer's lists count as done only with these.
- `_state/fingerprints-NNNNNN.parquet`: the detail decisions (fetched, or reused from
  an earlier night) with the pair's fingerprint, for the next night's reuse.

Each checkpoint writes its responses first, then the pairs, then the fingerprints, so a
crash between two of them loses decisions that are simply made again. A run that finds
a building directory of the same API resumes from it: calls that got no answer are
dropped (they are made again), and so are the list pages of customers whose lists are
not all done; everything else is kept and not asked again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.client.endpoints import DETAIL_ENDPOINT, LIST_ENDPOINT, META_ENDPOINT
from pipelines.extract.customers import CustomerRef
from pipelines.extract.incremental import STATE_SCHEMA, meta_stamp
from pipelines.extract.records import is_answer
from pipelines.lake.durable import fsync_path
from pipelines.lake.raw import BATCH_ROWS, RawRecord, records_to_table

CHECKPOINT_SECONDS = 10.0
STATE_DIR = "_state"
NOTE = f"{STATE_DIR}/checkpoint.json"
PART = re.compile(r"^responses-(\d{6})\.parquet$")
PAIRS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("identifier_type", pa.string()),
        ("badge_id", pa.string()),  # null: the customer's lists hold no badge
        ("entries_digest", pa.binary()),
    ]
)
DECISIONS_SCHEMA = STATE_SCHEMA.append(pa.field("reused", pa.bool_()))

CustomerKey = tuple[str, str]
PairKey = tuple[str, str, str]
PairRow = tuple[str, str, str | None, bytes | None]
DecisionRow = tuple[str, str, str, str, dt.date, bool]


def customer_key(customer: CustomerRef) -> CustomerKey:
    return (customer.customer_id, customer.identifier_type)


def _write_atomically(table: pa.Table, path: Path) -> None:
    temporary = path.with_name(path.name + ".tmp")
    pq.write_table(table, temporary, compression="zstd")
    fsync_path(temporary)
    os.replace(temporary, path)


class CheckpointWriter:
    """Appends records unit by unit and writes them out as whole files at each checkpoint."""

    def __init__(
        self,
        directory: Path,
        first_part: int = 1,
        on_batch: Callable[[pa.Table], None] | None = None,
        batch_rows: int = BATCH_ROWS,
        checkpoint_seconds: float = CHECKPOINT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        (directory / STATE_DIR).mkdir(parents=True, exist_ok=True)
        self._part = first_part
        self._on_batch = on_batch
        self._batch_rows = batch_rows
        self.checkpoint_seconds = checkpoint_seconds
        self._clock = clock
        self._last_flush = clock()
        self._records: list[RawRecord] = []
        self._pairs: list[PairRow] = []
        self._decisions: list[DecisionRow] = []
        self.records_written = 0

    def add(self, records: Iterable[RawRecord]) -> None:
        """One unit of records (every page of a list, or one call's record)."""
        self._records.extend(records)
        if len(self._records) >= self._batch_rows:
            self.flush()

    def add_pairs(self, rows: Iterable[PairRow]) -> None:
        self._pairs.extend(rows)

    def add_decision(self, row: DecisionRow) -> None:
        self._decisions.append(row)

    def flush_if_due(self) -> None:
        if self._clock() - self._last_flush >= self.checkpoint_seconds:
            self.flush()

    def flush(self) -> None:
        """Writes what is pending as the next checkpoint."""
        self._last_flush = self._clock()
        if not (self._records or self._pairs or self._decisions):
            return
        number = f"{self._part:06d}"
        if self._records:
            batch = records_to_table(self._records)
            _write_atomically(batch, self.directory / f"responses-{number}.parquet")
            if self._on_batch is not None:
                self._on_batch(batch)
            self.records_written += len(self._records)
        if self._pairs:
            table = pa.table(list(zip(*self._pairs, strict=True)), schema=PAIRS_SCHEMA)
            _write_atomically(table, self.directory / STATE_DIR / f"pairs-{number}.parquet")
        if self._decisions:
            table = pa.table(list(zip(*self._decisions, strict=True)), schema=DECISIONS_SCHEMA)
            path = self.directory / STATE_DIR / f"fingerprints-{number}.parquet"
            _write_atomically(table, path)
        fsync_path(self.directory)
        self._records, self._pairs, self._decisions = [], [], []
        self._part += 1


@dataclass
class Resumed:
    """What earlier attempts of the night already have, so it is not asked again."""

    next_part: int = 1
    answered_calls: int = 0  # calls already answered (each record is one request)
    meta_stamps: dict[str, bytes | None] = field(default_factory=dict)  # badge -> stamp
    listed: dict[CustomerKey, list[tuple[str, bytes]]] = field(default_factory=dict)
    details_done: set[PairKey] = field(default_factory=set)
    parts: list[Path] = field(default_factory=list)

    @property
    def resumed(self) -> bool:
        return self.answered_calls > 0


def open_checkpoint(directory: Path, base_url: str, scope: set[CustomerKey]) -> Resumed:
    """Resumes from `directory` when an earlier attempt left one for the same API; else
    starts it empty. Records of customers outside `scope` are dropped."""
    note = directory / NOTE
    if not _same_api(note, base_url):
        shutil.rmtree(directory, ignore_errors=True)
        (directory / STATE_DIR).mkdir(parents=True)
        note.write_text(json.dumps({"base_url": base_url}))
        return Resumed()
    for leftover in directory.rglob("*.tmp"):
        leftover.unlink()
    resumed = Resumed()
    resumed.listed = _listed_customers(directory, scope)
    for path in sorted(p for p in directory.iterdir() if PART.match(p.name)):
        resumed.next_part = int(PART.match(path.name).group(1)) + 1  # type: ignore[union-attr]
        kept = _kept_records(path, resumed.listed, scope)
        if kept.num_rows == 0:
            path.unlink()
            continue
        resumed.parts.append(path)
        resumed.answered_calls += kept.num_rows
        _note_done(kept, resumed)
    resumed.details_done |= _reused_pairs(directory, scope)
    return resumed


def _same_api(note: Path, base_url: str) -> bool:
    try:
        return json.loads(note.read_text()).get("base_url") == base_url
    except (OSError, ValueError):
        return False


def _listed_customers(
    directory: Path, scope: set[CustomerKey]
) -> dict[CustomerKey, list[tuple[str, bytes]]]:
    listed: dict[CustomerKey, list[tuple[str, bytes]]] = {}
    for path in sorted((directory / STATE_DIR).glob("pairs-*.parquet")):
        table = pq.read_table(path, schema=PAIRS_SCHEMA)
        for customer_id, identifier_type, badge_id, digest in zip(
            *(table.column(n).to_pylist() for n in PAIRS_SCHEMA.names), strict=True
        ):
            key = (customer_id, identifier_type)
            if key in scope:
                pairs = listed.setdefault(key, [])
                if badge_id is not None:
                    pairs.append((badge_id, digest))
    return listed


def _kept_records(
    path: Path, listed: dict[CustomerKey, list[tuple[str, bytes]]], scope: set[CustomerKey]
) -> pa.Table:
    """The part's records worth keeping; the part is rewritten without the others."""
    table = pq.read_table(path)
    keep = []
    for row in table.select(
        ["endpoint", "ok", "http_status", "error_code", "customer_id", "identifier_type"]
    ).to_pylist():
        record = RawRecord(request_path="", **row)
        customer = (row["customer_id"], row["identifier_type"])
        in_scope = row["customer_id"] is None or customer in scope
        lists_done = row["endpoint"] != LIST_ENDPOINT.name or customer in listed
        keep.append(is_answer(record) and in_scope and lists_done)
    if all(keep):
        return table
    kept = table.filter(pa.array(keep, pa.bool_()))
    if kept.num_rows:
        _write_atomically(kept, path)
    return kept


def _note_done(table: pa.Table, resumed: Resumed) -> None:
    endpoint = table.column("endpoint")
    details = table.filter(pc.equal(endpoint, DETAIL_ENDPOINT.name))
    for customer_id, identifier_type, badge_id in zip(
        *(details.column(n).to_pylist() for n in ("customer_id", "identifier_type", "badge_id")),
        strict=True,
    ):
        resumed.details_done.add((customer_id, identifier_type, badge_id))
    metas = table.filter(pc.equal(endpoint, META_ENDPOINT.name))
    for badge_id, ok, body in zip(
        *(metas.column(n).to_pylist() for n in ("badge_id", "ok", "body")), strict=True
    ):
        resumed.meta_stamps[badge_id] = _stamp_of(body) if ok else None


def _stamp_of(body: bytes | None) -> bytes | None:
    try:
        data = orjson.loads(body or b"").get("data")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return meta_stamp(data) if isinstance(data, dict) else None


def _reused_pairs(directory: Path, scope: set[CustomerKey]) -> set[PairKey]:
    pairs: set[PairKey] = set()
    for path in sorted((directory / STATE_DIR).glob("fingerprints-*.parquet")):
        table = pq.read_table(path, schema=DECISIONS_SCHEMA).filter(pc.field("reused"))
        for customer_id, identifier_type, badge_id in zip(
            *(table.column(n).to_pylist() for n in ("customer_id", "identifier_type", "badge_id")),
            strict=True,
        ):
            if (customer_id, identifier_type) in scope:
                pairs.add((customer_id, identifier_type, badge_id))
    return pairs


def decision_files(directory: Path) -> list[Path]:
    return sorted((directory / STATE_DIR).glob("fingerprints-*.parquet"))


def remove_checkpoint_state(directory: Path) -> None:
    """Drops the files only a resume needs, once the night is sealed."""
    for pattern in ("pairs-*.parquet", "fingerprints-*.parquet"):
        for path in (directory / STATE_DIR).glob(pattern):
            path.unlink()
    (directory / NOTE).unlink(missing_ok=True)
