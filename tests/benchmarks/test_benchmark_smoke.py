"""The extraction benchmark still runs end to end (tiny sizes, so it cannot rot unnoticed)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

from benchmarks.archive import ArchiveSpec
from pipelines.lake import Lake
from pipelines.sandbox.generate import generate_org_part

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = PROJECT_ROOT / "benchmarks"
RATIO_LINE = re.compile(r"^extraction/floor requests-per-second ratio: (\d+\.\d\d)$")
TAIL_LINE = re.compile(r"^night tail, 40 customers: (\d+\.\d) s, peak RSS (\d+) MiB$")
STEP_LINE = re.compile(r"^step  (\S+) +(\d+\.\d) s  peak RSS +([\d,]+) MiB$")


def run_benchmark(
    *args: str, script: str = "extraction.py", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    # Its own session, so a timeout stops the sandbox and phase children too.
    process = subprocess.Popen(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_extraction_benchmark_prints_its_figures_and_ends_with_the_ratio():
    done = run_benchmark(
        "--customers", "20", "--latency-ms", "0", "--scale", "2", "--skip-whole-run"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    ratio = RATIO_LINE.match(lines[-1])
    assert ratio, lines[-1]
    assert float(ratio.group(1)) > 0
    assert "whole-run/extraction time ratio: skipped" in lines
    rss_line = next(line for line in lines if line.startswith("peak RSS 2x/1x: "))
    assert float(rss_line.removeprefix("peak RSS 2x/1x: ")) > 0
    rows = {line.split("  ")[0].strip(): line for line in lines}
    assert {"extraction 1x", "floor httpx+aiohttp", "floor aiohttp (pipeline's)"} <= set(rows)
    # the floor replays exactly the extraction's request set
    extraction_requests = rows["extraction 1x"].split()[2]
    floor_requests = rows["floor httpx+aiohttp"].split()[2]
    assert extraction_requests == floor_requests
    assert int(extraction_requests.replace(",", "")) > 20 * 4


def test_tail_benchmark_replays_the_whole_archive_and_ends_with_its_figures(tmp_path):
    args = ("--customers", "40", "--part-customers", "20", "--results", str(tmp_path), "--keep")
    done = run_benchmark(*args, script="tail.py", timeout=300)

    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    tail = TAIL_LINE.match(lines[-1])
    assert tail, lines[-1]
    assert float(tail.group(1)) > 0 and int(tail.group(2)) > 0
    steps = {m.group(1): m for m in map(STEP_LINE.match, lines) if m}
    assert {
        "raw_api_responses",
        "warehouse_tables",
        "history__snapshots",
        "published_warehouse",
    } <= set(steps)
    assert all(int(step.group(3).replace(",", "")) > 0 for step in steps.values())
    # every customer of both parts reached the published warehouse
    (data,) = (tmp_path / "tail-run").glob("*/data")
    expected = sum(
        generate_org_part(40, first, 20, as_of=ArchiveSpec(40).snapshot_date).expected_row_counts()[
            "customer_badges"
        ]
        for first in (0, 20)
    )
    with duckdb.connect(str(Lake(data).warehouse_path), read_only=True) as con:
        loaded = con.execute(
            "SELECT count(*), count(DISTINCT customer_id) FROM main.customer_badges"
        ).fetchone()
    assert loaded[0] == expected
    assert loaded[1] >= 38  # a customer may hold no badge in any list
