"""Running an extraction: one client and one extractor on an event loop of their own."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipelines.client.http import ApiClient
from pipelines.client.rates import Rate
from pipelines.client.settings import ApiSettings
from pipelines.extract.extractor import SnapshotExtractor
from pipelines.extract.outcome import ExtractReport
from pipelines.extract.progress import ProgressCallback
from pipelines.lake.checkpoint import CheckpointWriter
from pipelines.lake.keys import CustomerRef


def run_extraction(
    settings: ApiSettings,
    writer: CheckpointWriter,
    customers: list[CustomerRef],
    preflight: bool = True,
    remembered_limits: Mapping[str, Rate] | None = None,
    **options: Any,
) -> ExtractReport:
    """Every call for `customers` into `writer`; `options` go to the SnapshotExtractor.
    With `preflight`, an API that cannot be reached at all stops it before the first call.
    The client starts each API at its `remembered_limits` entry, if any (see ApiClient)."""

    async def extract() -> ExtractReport:
        async with ApiClient(settings, remembered_limits) as client:
            if preflight:
                await client.preflight()
            return await SnapshotExtractor(client, writer, customers, **options).run()

    # Everything loaded so far (Dagster, pyarrow...) lives as long as the process: keep
    # the collector from walking it again and again while requests stream through.
    gc.freeze()
    try:
        return asyncio.run(extract())
    finally:
        gc.unfreeze()


def extract_to_archive(
    settings: ApiSettings,
    customers: list[CustomerRef],
    raw_dir: Path,
    on_progress: ProgressCallback | None = None,
    remembered_limits: Mapping[str, Rate] | None = None,
) -> ExtractReport:
    """The bare extraction, as the benchmarks measure it: every call for `customers` into
    `raw_dir`, nothing planned, reused, normalized or gated."""
    today = dt.datetime.now(dt.UTC).date()
    return run_extraction(
        settings,
        CheckpointWriter(raw_dir),
        customers,
        preflight=False,
        remembered_limits=remembered_limits,
        snapshot_date=today,
        on_progress=on_progress,
    )
