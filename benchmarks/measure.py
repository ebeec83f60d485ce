"""Measuring a child process alone: wall time, peak RSS and its printed JSON figures."""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

KIB_PER_MIB = 1024  # ru_maxrss is in KiB on Linux
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass
class ChildRun:
    returncode: int
    seconds: float  # wall time, interpreter start-up included
    peak_rss_mib: float  # the child's own peak (and that of children it waited for)
    cpu_seconds: float  # user + system time of the child
    stdout: str
    stderr: str

    def figures(self) -> dict[str, Any]:
        """The JSON object the child printed as its last stdout line."""
        lines = self.stdout.strip().splitlines()
        if self.returncode != 0 or not lines:
            raise RuntimeError(f"child failed (exit {self.returncode}):\n{self.stderr[-3000:]}")
        return orjson.loads(lines[-1])


def run_child(
    argv: list[str], env: dict[str, str], cwd: Path, on_start: Callable[[int], None] | None = None
) -> ChildRun:
    """Runs `argv` to completion and reads its resource usage with wait4 (this child only);
    `on_start` gets the child's pid as soon as it runs."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err)
        if on_start is not None:
            on_start(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(
            returncode=process.returncode,
            seconds=seconds,
            peak_rss_mib=usage.ru_maxrss / KIB_PER_MIB,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def own_peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB_PER_MIB


class TreeRss:
    """Samples the resident memory of a process and all its descendants, summed, in a thread.

    `samples` holds (epoch seconds, MiB); read it once the process has ended.
    """

    def __init__(self, interval_seconds: float = 0.2) -> None:
        self.interval_seconds = interval_seconds
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pid: int) -> None:
        self._thread = threading.Thread(target=self._sample, args=(pid,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def peak_mib(self, start: float = 0.0, end: float = float("inf")) -> float:
        """The highest sample between `start` and `end` (epoch seconds), counting the last
        one before `start` (what was resident when it began); 0 when there is none."""
        before = [mib for at, mib in self.samples if at < start][-1:]
        return max([*before, *(mib for at, mib in self.samples if start <= at <= end)], default=0.0)

    def _sample(self, pid: int) -> None:
        while not self._stop.is_set():
            mib = tree_rss_mib(pid)
            if mib:
                self.samples.append((time.time(), mib))
            self._stop.wait(self.interval_seconds)


def tree_rss_mib(pid: int) -> float:
    """Resident MiB of `pid` and its descendants (0 once it has ended), read from /proc."""
    children: dict[int, list[int]] = {}
    resident: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        # the fields after the command name: state, ppid, ...; rss (pages) is the 22nd
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        resident[int(entry.name)] = int(fields[21])
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += resident.get(current, 0)
        pending += children.get(current, [])
    return total * PAGE_BYTES / 2**20
