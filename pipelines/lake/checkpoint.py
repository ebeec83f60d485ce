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
- `_state/checkpoint.json`: the API the answers come from.
- `_damaged/`: checkpoint files a resume could not read (a disk that lost a write, a
  file overwritten), kept for a look, with the state files that may rest on their
  records; their calls are made again. Dataset readers skip `_`-prefixed folders.

Each checkpoint writes its responses first, then the pairs, then the fingerprints, so a
crash between two of them loses decisions that are simply made again. What a resume
keeps of these files is the extraction's business (`pipelines.extract.resume`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lake.damage import READ_ERRORS, read_error_reason
from pipelines.lake.durable import TEMP_SUFFIX, fsync_path, write_parquet, write_text
from pipelines.lake.nightrecord import FINGERPRINT_SCHEMA, STATE_DIR
from pipelines.lake.raw import BATCH_ROWS, RAW_SCHEMA, RawRecord, records_to_table

CHECKPOINT_SECONDS = 10.0
NOTE = STATE_DIR / "checkpoint.json"
PART = re.compile(r"^responses-(\d{6})\.parquet$")
NUMBERED = re.compile(r"^(?:responses|pairs|fingerprints)-(\d{6})\.parquet$")
DAMAGED_DIR = "_damaged"
PAIRS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("identifier_type", pa.string()),
        ("badge_id", pa.string()),  # null: the customer's lists hold no badge
        ("entries_digest", pa.binary()),
    ]
)
DECISIONS_SCHEMA = FINGERPRINT_SCHEMA.append(pa.field("reused", pa.bool_()))

PairRow = tuple[str, str, str | None, bytes | None]
DecisionRow = tuple[str, str, str, str, dt.date, bool]


@dataclass(frozen=True)
class SetAside:
    """A checkpoint file that could not be read, and where it was moved."""

    path: Path
    moved_to: Path
    reason: str


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
        on_file: Callable[[Path], None] | None = None,
    ) -> None:
        self.directory = directory
        (directory / STATE_DIR).mkdir(parents=True, exist_ok=True)
        self._part = first_part
        self._on_batch = on_batch
        self._batch_rows = batch_rows
        self.checkpoint_seconds = checkpoint_seconds
        self._clock = clock
        self._on_file = on_file  # sees each checkpoint file once it is in place
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
        written = []
        if self._records:
            batch = records_to_table(self._records)
            written.append(self.directory / f"responses-{number}.parquet")
            write_parquet(batch, written[-1], RAW_SCHEMA)
            if self._on_batch is not None:
                self._on_batch(batch)
            self.records_written += len(self._records)
        if self._pairs:
            table = pa.table(list(zip(*self._pairs, strict=True)), schema=PAIRS_SCHEMA)
            written.append(self.directory / STATE_DIR / f"pairs-{number}.parquet")
            write_parquet(table, written[-1], PAIRS_SCHEMA)
        if self._decisions:
            table = pa.table(list(zip(*self._decisions, strict=True)), schema=DECISIONS_SCHEMA)
            written.append(self.directory / STATE_DIR / f"fingerprints-{number}.parquet")
            write_parquet(table, written[-1], DECISIONS_SCHEMA)
        for path in written if self._on_file is not None else []:
            self._on_file(path)
        self._records, self._pairs, self._decisions = [], [], []
        self._part += 1


class Checkpoint:
    """The files an earlier attempt of the night left in its building directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def is_for(self, base_url: str) -> bool:
        """Whether an earlier attempt against the same API left this checkpoint."""
        try:
            return json.loads((self.directory / NOTE).read_text()).get("base_url") == base_url
        except (OSError, ValueError):
            return False

    def start(self, base_url: str) -> None:
        """Discards whatever is there and starts an empty checkpoint for `base_url`."""
        shutil.rmtree(self.directory, ignore_errors=True)
        write_text(json.dumps({"base_url": base_url}), self.directory / NOTE)

    def remove_leftovers(self) -> None:
        """Files a killed write left under their temporary name."""
        for leftover in self.directory.rglob(f"*{TEMP_SUFFIX}"):
            leftover.unlink()

    def next_part(self) -> int:
        """The number after every checkpoint file's, those set aside included."""
        numbers = [
            int(match.group(1))
            for path in self.directory.rglob("*.parquet")
            if (match := NUMBERED.match(path.name))
        ]
        return max(numbers, default=0) + 1

    def set_aside_unreadable(self) -> list[SetAside]:
        """Moves the files that cannot be read into `_damaged/`, and with a damaged response
        part the state files of its checkpoint and later ones, whose lists and decisions may
        rest on its records; returns the unreadable files."""
        numbered = self._numbered_files()
        unreadable = [
            SetAside(path, self._damaged_path(path), reason)
            for number, path in numbered
            if (reason := _unreadable(path)) is not None
        ]
        damaged = {entry.path for entry in unreadable}
        first_lost = min(
            (n for n, p in numbered if p in damaged and PART.match(p.name)), default=None
        )
        dependent = [
            path
            for number, path in numbered
            if first_lost is not None and number >= first_lost and path.parent != self.directory
        ]
        for path in {*damaged, *dependent}:
            self._move_aside(path)
        return unreadable

    def _numbered_files(self) -> list[tuple[int, Path]]:
        """The response parts and state files, with their checkpoint's number."""
        files = [*self.directory.glob("*.parquet"), *(self.directory / STATE_DIR).glob("*.parquet")]
        return sorted(
            (int(match.group(1)), path) for path in files if (match := NUMBERED.match(path.name))
        )

    def _damaged_path(self, path: Path) -> Path:
        return self.directory / DAMAGED_DIR / path.relative_to(self.directory)

    def _move_aside(self, path: Path) -> None:
        target = self._damaged_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
        fsync_path(path.parent)

    def response_parts(self) -> Iterator[tuple[int, Path]]:
        for path in sorted(self.directory.iterdir()):
            match = PART.match(path.name)
            if match:
                yield int(match.group(1)), path

    def keep_rows(self, part: Path, table: pa.Table, keep: list[bool]) -> pa.Table:
        """Rewrites a response part with the rows to keep (or removes it when none is)."""
        if all(keep):
            return table
        kept = table.filter(pa.array(keep, pa.bool_()))
        if kept.num_rows:
            write_parquet(kept, part, RAW_SCHEMA)
        else:
            part.unlink()
        return kept

    def pairs(self) -> Iterator[pa.Table]:
        for path in sorted((self.directory / STATE_DIR).glob("pairs-*.parquet")):
            yield pq.read_table(path, schema=PAIRS_SCHEMA)

    def decision_files(self) -> list[Path]:
        return sorted((self.directory / STATE_DIR).glob("fingerprints-*.parquet"))

    def decisions(self) -> Iterator[pa.Table]:
        for path in self.decision_files():
            yield pq.read_table(path, schema=DECISIONS_SCHEMA)

    def remove_state(self) -> None:
        """Drops the files only a resume needs, once the night is sealed."""
        for pattern in ("pairs-*.parquet", "fingerprints-*.parquet"):
            for path in (self.directory / STATE_DIR).glob(pattern):
                path.unlink()
        (self.directory / NOTE).unlink(missing_ok=True)


def _unreadable(path: Path) -> str | None:
    """Why the Parquet file at `path` cannot be read, or None when it reads whole."""
    try:
        pq.read_table(path)
    except READ_ERRORS as error:
        return read_error_reason(error)
    return None
