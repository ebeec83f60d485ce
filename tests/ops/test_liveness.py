"""A run's process is alive only while that very process exists: not after it died, not when
its pid now belongs to a process started later."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pipelines.ops.liveness import process_alive, process_start_time


def test_a_live_process_is_alive_until_it_is_killed():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        reported_at = time.time()
        assert process_alive(child.pid, reported_at)
    finally:
        child.kill()
        child.wait()
    assert not process_alive(child.pid, reported_at)


def test_a_pid_reported_before_its_process_started_is_another_process():
    started = process_start_time(os.getpid())
    assert started is not None and abs(started - time.time()) < 3600
    assert process_alive(os.getpid(), started + 1)
    assert not process_alive(os.getpid(), started - 60)  # the pid was reused since


def test_a_zombie_is_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while process_start_time(child.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)  # exited but not reaped: a zombie
    assert not process_alive(child.pid, time.time())
    child.wait()
