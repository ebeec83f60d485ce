"""Requests spaced evenly: the pace of one API's throttle."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable


class Pacer:
    """Requests spaced evenly at `rate` per second, at most `burst` at once: each takes the
    next slot of a fixed schedule, so late wake-ups do not lower the pace."""

    def __init__(
        self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._burst = burst
        self._clock = clock
        self.set_rate(rate)
        self.restart()

    def set_rate(self, rate: float) -> None:
        """A new pace for the slots not taken yet."""
        self.interval = 1 / rate
        self._slack = (self._burst - 1) * self.interval

    def restart(self) -> None:
        """Wakes the requests waiting for their slots and forgets the slots, so the next
        request goes at once."""
        self._next = -math.inf
        restarted = getattr(self, "_restarted", None)
        if restarted is not None:
            restarted.set()
        self._restarted = asyncio.Event()

    async def wait(self) -> None:
        """Until this request's slot, or until a restart."""
        now = self._clock()
        slot = max(self._next, now - self._slack)
        self._next = slot + self.interval
        if slot > now:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._restarted.wait(), slot - now)
