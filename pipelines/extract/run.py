"""Run a whole extraction into a snapshot's raw archive, published only when complete."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipelines.client.http import ApiClient
from pipelines.client.settings import ApiSettings
from pipelines.extract.customers import CustomerRef
from pipelines.extract.incremental import REUSED_FILE, DetailPlan, PreviousSnapshot
from pipelines.extract.progress import ProgressCallback
from pipelines.extract.snapshot import ExtractReport, SnapshotExtractor
from pipelines.lake import Lake
from pipelines.normalize.snapshot import NormalizeReport
from pipelines.normalize.streaming import StreamingNormalizer
from pipelines.raw import RawArchiveWriter


@dataclass(frozen=True)
class ReusePolicy:
    """How much of the previous snapshot's details a run may reuse (see `incremental`)."""

    snapshot_date: dt.date
    previous: PreviousSnapshot | None
    refresh_days: int = 7
    full_refresh: bool = False


def extract_to_archive(
    settings: ApiSettings,
    customers: list[CustomerRef],
    raw_dir: Path,
    on_progress: ProgressCallback | None = None,
    progress_every: float = 2.0,
    reuse: ReusePolicy | None = None,
    normalize_into: tuple[Lake, dt.date] | None = None,
) -> tuple[ExtractReport, NormalizeReport | None]:
    """Extracts into a temporary sibling of `raw_dir` that replaces it once complete.

    A crash leaves the previous archive of the date (if any) untouched. Without a
    `reuse` policy every detail is fetched and no fingerprints are kept. With
    `normalize_into` the archive is also normalized into that lake and date while it
    is written, and its partitions are published right after the archive.
    """
    building = raw_dir.with_name(raw_dir.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    plan = None
    if reuse is not None:
        plan = DetailPlan(
            reuse.snapshot_date, building, reuse.previous, reuse.refresh_days, reuse.full_refresh
        )
    normalizer = StreamingNormalizer(*normalize_into) if normalize_into else None
    # Everything loaded so far (Dagster, pyarrow...) lives as long as the process: keep
    # the collector from walking it again and again while requests stream through.
    gc.freeze()
    try:
        on_batch = normalizer.submit if normalizer else None
        with RawArchiveWriter(building / "responses-0.parquet", on_batch=on_batch) as writer:
            report = asyncio.run(
                _extract(settings, customers, writer, on_progress, progress_every, plan)
            )
        if plan is not None:
            plan.finish()
        if normalizer is not None:
            reused = building / REUSED_FILE
            if reused.exists():
                normalizer.submit_file(reused)
            normalizer.close()
    except BaseException:
        if normalizer is not None:
            normalizer.abort()
        raise
    finally:
        gc.unfreeze()
    replace_directory(building, raw_dir)
    return report, normalizer.publish() if normalizer else None


async def _extract(
    settings: ApiSettings,
    customers: list[CustomerRef],
    writer: RawArchiveWriter,
    on_progress: ProgressCallback | None,
    progress_every: float,
    plan: DetailPlan | None,
) -> ExtractReport:
    async with ApiClient(settings) as client:
        extractor = SnapshotExtractor(
            client,
            writer,
            customers,
            on_progress=on_progress,
            progress_every=progress_every,
            plan=plan,
        )
        return await extractor.run()


def replace_directory(new: Path, target: Path) -> None:
    """Puts `new` in place of `target`; the old one is removed only after the swap."""
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)
