"""A shared request-rate budget that backs off for the whole client on 429 and recovers.

The configured budget is enforced by `aiolimiter`'s leaky bucket. A 429 pauses every
request until its Retry-After has passed and cuts the rate to a share of what was
flowing, so the client as a whole slows down rather than only the call that was
refused; each quiet second after that raises the rate again until the budget (or,
with no budget, unlimited) is reached.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from aiolimiter import AsyncLimiter

BACKOFF_FACTOR = 0.7
RECOVERY_FACTOR = 1.15
MIN_RATE = 1.0
BURST_SECONDS = 0.1


def _limiter(rate: float) -> AsyncLimiter:
    burst = max(1.0, rate * BURST_SECONDS)
    return AsyncLimiter(burst, burst / rate)


class AdaptiveRate:
    def __init__(self, budget: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.budget = budget  # 0 = no budget
        self.rate = budget or None  # None = unlimited
        self._limiter = _limiter(budget) if budget else None
        self._paused_until = 0.0
        self._last_throttle = 0.0
        self._recent: deque[float] = deque()  # start times of the last second's requests

    async def acquire(self) -> None:
        now = self._clock()
        if now < self._paused_until:
            await asyncio.sleep(self._paused_until - now)
        self._recover(self._clock())
        if self._limiter is not None:
            await self._limiter.acquire()
        self._note_request(self._clock())

    def throttled(self, retry_after: float | None) -> None:
        """The API answered 429: pause everyone and lower the rate."""
        now = self._clock()
        self._paused_until = max(self._paused_until, now + (retry_after or 1.0))
        if now - self._last_throttle < 0.5:
            return  # one burst of 429s is one signal, not many
        self._last_throttle = now
        flowing = self.rate or max(float(len(self._recent)), MIN_RATE)
        self._set_rate(max(MIN_RATE, flowing * BACKOFF_FACTOR))

    def _recover(self, now: float) -> None:
        if self.rate is None or now - self._last_throttle < 1.0:
            return
        self._last_throttle = now  # one step per quiet second
        raised = self.rate * RECOVERY_FACTOR
        if self.budget and raised >= self.budget:
            self._set_rate(self.budget)
        elif not self.budget and raised > 4 * max(len(self._recent), 1):
            self.rate, self._limiter = None, None  # far above demand: lift the limit
        else:
            self._set_rate(raised)

    def _set_rate(self, rate: float) -> None:
        if rate != self.rate:
            self.rate = rate
            self._limiter = _limiter(rate)

    def _note_request(self, now: float) -> None:
        self._recent.append(now)
        while self._recent and self._recent[0] < now - 1.0:
            self._recent.popleft()
