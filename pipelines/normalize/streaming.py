"""Normalizing while the extraction runs, in a second process fed with the archive's batches.

Extraction is bound by the API's latency and uses part of one core; normalizing the
same records afterwards would add its whole time to the run. Instead, every batch the
raw archive writer flushes is also handed to a child process that normalizes it into
temporary partitions, so at the end of the extraction only the swap-in is left. The
inbox is bounded: if normalizing falls behind, the extraction waits for it rather
than piling batches up in memory.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import queue
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lake import Lake
from pipelines.lake.failpoints import KILL_AT_VARIABLE, failpoint
from pipelines.lake.raw import BATCH_ROWS, records_of_table
from pipelines.normalize.carry import CarryForward
from pipelines.normalize.normalizer import NormalizeReport, SnapshotNormalizer

_SPAWN = multiprocessing.get_context("spawn")
PARENT_CHECK_SECONDS = 2.0


class NormalizerDied(RuntimeError):
    pass


class StreamingNormalizer:
    def __init__(self, lake: Lake, snapshot_date: dt.date, inbox_batches: int = 8) -> None:
        self._inbox: Any = _SPAWN.Queue(maxsize=inbox_batches)
        self._outbox: Any = _SPAWN.Queue()
        self._process = _SPAWN.Process(
            target=_work,
            args=(lake.root, snapshot_date, self._inbox, self._outbox),
            name="badges-normalizer",
            daemon=True,
        )
        self._process.start()

    def submit(self, batch: pa.Table) -> None:
        self._inbox.put(("batch", batch))

    def submit_file(self, path: Path) -> None:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
            self.submit(pa.Table.from_batches([batch]))

    def close(self, carry: CarryForward | None = None) -> dict[str, list[Path]]:
        """Waits until every table's temporary Parquet is complete (customers carried
        forward when told to); returns the files of each table."""
        self._inbox.put(("close", carry))
        files = self._answer("closed")
        failpoint("normalize")  # every temp Parquet written, no partition swapped yet
        return files

    def publish(self) -> NormalizeReport:
        self._inbox.put(("publish", None))
        report = self._answer("published")
        self._process.join()
        return report

    def abort(self) -> None:
        if self._process.is_alive():
            self._inbox.put(("abort", None))
            self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

    def _answer(self, expected: str) -> Any:
        while True:
            try:
                kind, payload = self._outbox.get(timeout=1.0)
            except queue.Empty:
                if not self._process.is_alive():
                    raise NormalizerDied(
                        f"the normalizer process ended (exit code {self._process.exitcode})"
                    ) from None
                continue
            if kind == "error":
                raise NormalizerDied(f"normalizing failed: {payload}")
            assert kind == expected, (kind, expected)
            return payload


def _next_message(inbox: Any) -> tuple[str, Any]:
    """The parent's next message; an abort when the parent died (SIGKILL sends nothing)."""
    while True:
        try:
            return inbox.get(timeout=PARENT_CHECK_SECONDS)
        except queue.Empty:
            parent = multiprocessing.parent_process()
            if parent is not None and not parent.is_alive():
                return ("abort", None)


def _work(root: Path, snapshot_date: dt.date, inbox: Any, outbox: Any) -> None:
    os.environ.pop(KILL_AT_VARIABLE, None)  # crash points belong to the parent process
    normalizer = SnapshotNormalizer(Lake(root), snapshot_date)
    try:
        while True:
            kind, payload = _next_message(inbox)
            if kind == "batch":
                normalizer.feed(records_of_table(payload))
            elif kind == "close":
                outbox.put(("closed", normalizer.close(payload)))
            elif kind == "publish":
                outbox.put(("published", normalizer.publish()))
                return
            else:
                normalizer.abort()
                return
    except BaseException as exc:
        normalizer.abort()
        outbox.put(("error", f"{type(exc).__name__}: {exc}"))
