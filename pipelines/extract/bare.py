"""The bare extraction, as the benchmarks measure it: every call for some customers into an
archive directory, nothing planned, reused, normalized or gated."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
from pathlib import Path

from pipelines.client.http import ApiClient
from pipelines.client.settings import ApiSettings
from pipelines.extract.progress import ProgressCallback
from pipelines.extract.report import ExtractReport
from pipelines.extract.snapshot import SnapshotExtractor
from pipelines.lake.checkpoint import CheckpointWriter
from pipelines.lake.keys import CustomerRef


def extract_to_archive(
    settings: ApiSettings,
    customers: list[CustomerRef],
    raw_dir: Path,
    on_progress: ProgressCallback | None = None,
) -> ExtractReport:
    """Every call for `customers` into `raw_dir`."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    writer = CheckpointWriter(raw_dir)

    async def extract() -> ExtractReport:
        async with ApiClient(settings) as client:
            extractor = SnapshotExtractor(
                client,
                writer,
                customers,
                snapshot_date=dt.datetime.now(dt.UTC).date(),
                on_progress=on_progress,
            )
            return await extractor.run()

    gc.freeze()
    try:
        return asyncio.run(extract())
    finally:
        gc.unfreeze()
