"""What a night says while it works: each step's start and end, with its time, in the run's
log and on the console of `badges run` (the logger `badges.progress`)."""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import AssetExecutionContext

progress_log = logging.getLogger("badges.progress")
STEP = {"step": True}  # a line of its own on a terminal, not rewritten by the next one


class ProgressLog:
    """The step's log lines, in Dagster's log and on the console of `badges run`."""

    def __init__(self, context: AssetExecutionContext) -> None:
        self.context = context

    def info(self, line: str) -> None:
        self.context.log.info(line)
        progress_log.info(line)

    def warning(self, line: str) -> None:
        self.context.log.warning(line)
        progress_log.warning(f"warning: {line}")


@contextmanager
def step_progress(context: AssetExecutionContext, step: str) -> Iterator[ProgressLog]:
    """Says when `step` starts and when it ends (done, or stopped), with its time."""
    log = ProgressLog(context)
    _say(context, f"{step}: started")
    started = time.monotonic()
    ended = "stopped after"
    try:
        yield log
        ended = "done in"
    finally:
        _say(context, f"{step}: {ended} {time.monotonic() - started:.1f} s")


def _say(context: AssetExecutionContext, line: str) -> None:
    context.log.info(line)
    progress_log.info(line, extra=STEP)
