"""Named crash points for recovery tests: a real SIGKILL at a chosen step of a run.

`failpoint("load")` does nothing unless the environment variable `BADGES_KILL_AT`
equals "load"; then the process kills itself with SIGKILL on the spot, so no
`finally`, `atexit` or buffered write runs, exactly like a machine losing power or
the OOM killer. Names in use: "normalize", "sealed", "commit" (after the first Iceberg
table of a night is committed), "load", "publish".
"""

from __future__ import annotations

import os
import signal

KILL_AT_VARIABLE = "BADGES_KILL_AT"


def failpoint(name: str) -> None:
    """Kills this process with SIGKILL when `BADGES_KILL_AT` equals `name`; else returns."""
    if os.environ.get(KILL_AT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
