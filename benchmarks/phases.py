"""What a measured child process runs: one extraction, or one floor replay.

Each phase reads the sandbox address and credentials from the environment (the
pipeline's own variables), does its work and prints one JSON line of figures.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.floor import requests_from_archive, run_floor
from benchmarks.measure import own_cpu_seconds, own_peak_rss_mib
from pipelines.client.settings import ApiSettings, ClientTuning
from pipelines.extract.customers import load_customers
from pipelines.extract.extraction import extract_to_archive
from pipelines.sandbox import basic_header


def _credentials() -> tuple[str, str, str]:
    env = os.environ
    return env["CAPILLARY_BASE_URL"], env["CAPILLARY_USERNAME"], env["CAPILLARY_PASSWORD"]


def extract_phase(
    raw_dir: Path, concurrency: int, transport: str, profile_to: Path | None = None
) -> dict[str, Any]:
    """Runs the pipeline's extraction into `raw_dir`; returns its figures."""
    base_url, username, password = _credentials()
    settings = ApiSettings(
        base_url,
        username=username,
        password=password,
        tuning=ClientTuning(concurrency=concurrency, transport=transport),
    )
    customers = load_customers(Path(os.environ["CAPILLARY_CUSTOMERS"]))
    profiler = cProfile.Profile() if profile_to else None
    started, cpu_started = time.monotonic(), own_cpu_seconds()
    if profiler is not None:
        profiler.enable()
    report = extract_to_archive(settings, customers, raw_dir)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_to)
    wall = time.monotonic() - started
    return {
        "customers": report.customers,
        "requests": report.requests,
        "raw_records": report.raw_records,
        "failed_calls": report.failed_calls,
        "retries": report.retries,
        "seconds": report.seconds,
        "wall_seconds": wall,
        "cpu_seconds": own_cpu_seconds() - cpu_started,
        "peak_rss_mib": own_peak_rss_mib(),
    }


def floor_phase(raw_dir: Path, client: str, concurrency: int) -> dict[str, Any]:
    """Replays the archive's request set with a bare client; returns its figures."""
    base_url, username, password = _credentials()
    requests = requests_from_archive(raw_dir)
    auth = {"Authorization": basic_header(username, password)}
    result = asyncio.run(run_floor(client, base_url, auth, requests, concurrency))
    return {
        "requests": result.requests,
        "raw_records": result.requests,
        "not_ok": result.not_ok,
        "seconds": result.seconds,
        "wall_seconds": result.seconds,
        "cpu_seconds": result.cpu_seconds,
        "peak_rss_mib": own_peak_rss_mib(),
    }


def print_figures(figures: dict[str, Any]) -> None:
    print(orjson.dumps(figures).decode(), flush=True)
