"""The normalizer child of a run killed with SIGKILL does not outlive it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipelines.normalize.streaming import PARENT_CHECK_SECONDS

PARENT = """
import datetime as dt, sys, time
from pathlib import Path
from pipelines.lake import Lake
from pipelines.normalize.streaming import StreamingNormalizer

normalizer = StreamingNormalizer(Lake(Path(sys.argv[1])), dt.date(2026, 1, 5))
print(normalizer._process.pid, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for its reaper is gone too
        return stat.read().split(") ", 1)[1][0] != "Z"


def test_the_normalizer_ends_soon_after_its_parent_is_killed(tmp_path: Path):
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert alive(child)
        os.kill(parent.pid, signal.SIGKILL)  # the parent only: nothing tells the child
        parent.wait()
        deadline = time.monotonic() + 5 * PARENT_CHECK_SECONDS + 10
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(child)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
