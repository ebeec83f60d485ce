"""Is the process that runs a Dagster run still there?

Works for any process on this host, whether the daemon launched the run or `badges run`
executes the job in its own process. A pid alone is not enough: after a crash the number
can be given to an unrelated process, so the process must also have started before it
reported itself as the run's worker.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
START_SLACK_SECONDS = 2.0  # boot time has whole-second resolution


def _boot_time() -> float | None:
    try:
        for line in (PROC / "stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def process_start_time(pid: int) -> float | None:
    """When process `pid` started (epoch seconds); None when it is gone or a zombie."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    state, start_ticks = fields[0], int(fields[19])
    boot = _boot_time()
    if state in ("Z", "X") or boot is None:
        return None
    return boot + start_ticks / os.sysconf("SC_CLK_TCK")


def process_alive(pid: int, reported_at: float) -> bool:
    """True while `pid` is the process that reported itself at `reported_at` (epoch seconds)."""
    if not PROC.is_dir():  # no /proc (macOS): the pid's existence is all there is to go on
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    started = process_start_time(pid)
    return started is not None and started <= reported_at + START_SLACK_SECONDS
