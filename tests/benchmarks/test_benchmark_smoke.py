"""The extraction benchmark still runs end to end (tiny sizes, so it cannot rot unnoticed)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT_ROOT / "benchmarks" / "extraction.py"
RATIO_LINE = re.compile(r"^extraction/floor requests-per-second ratio: (\d+\.\d\d)$")


def run_benchmark(*args: str) -> subprocess.CompletedProcess[str]:
    # Its own session, so a timeout stops the sandbox and phase children too.
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=60)
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
