"""Measuring a child process alone: wall time, peak RSS and its printed JSON figures."""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

KIB_PER_MIB = 1024  # ru_maxrss is in KiB on Linux


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


def run_child(argv: list[str], env: dict[str, str], cwd: Path) -> ChildRun:
    """Runs `argv` to completion and reads its resource usage with wait4 (this child only)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err)
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
