"""The tests' clock: the instant the running test started, set before its fixtures.

No date is fixed at import: a suite that crosses midnight UTC gives each test the day it
started on, and the nights a test launches carry that instant as their launch time
(`Pipeline.run`), so their mode (tonight, or a replay) is the one the test meant.
"""

from __future__ import annotations

import datetime as dt

_started = dt.datetime.now(dt.UTC)


def start_test(now: dt.datetime | None = None) -> None:
    global _started
    _started = now or dt.datetime.now(dt.UTC)


def test_started() -> dt.datetime:
    """When the running test started (UTC)."""
    return _started


def today() -> dt.date:
    """The day (UTC) the running test started on."""
    return _started.date()
