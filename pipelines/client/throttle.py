"""One API's share of the vendor's rate limit, stated or found from the server's 429s.

The vendor limits each API on its own, per fixed window (100 per minute on demo
clusters), so every API gets its own `ApiThrottle` and list, detail and meta calls
proceed side by side, each at its own pace.

- **Stated budget** (`CAPILLARY_RATE_LIMIT`): requests are spaced evenly, with a burst of
  at most 1% of the limit, so no fixed window of the server's, wherever it starts, can
  see more than the limit.
- **No budget**: the throttle starts with a few requests in flight and lets one more in
  per answer (so an unlimited server is at full speed within a few round trips, while a
  limit of 8 per window never meets 32 requests at once). The first 429 reveals the
  limit: at the first answer after a pause a new window has begun, and the requests
  accepted between two such resets, over the time between them, are the server's rate.
  The throttle paces just under it, and tries 5% more after every quiet stretch, so a
  rate found too low is corrected by the next 429.
- **A 429** pauses the whole API until its Retry-After (or, without one, a doubling
  backoff of 0.5 s up to 8 s), then lets a single probe through; the others follow
  once the probe is answered. A 429 is backpressure, never a failure of the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from aiolimiter import AsyncLimiter

from pipelines.client.rates import Rate

INITIAL_IN_FLIGHT = 4
SAFETY = 0.97  # pace this far under a rate found from 429s
RAISE_FACTOR = 1.05  # after a quiet stretch, try this much more
MIN_QUIET_SECONDS = 5.0
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0
MIN_RATE = 0.01  # requests/s


def _limiter(rate: float, burst: int = 1) -> AsyncLimiter:
    return AsyncLimiter(burst, burst / rate)


class ApiThrottle:
    def __init__(
        self,
        name: str,
        budget: Rate | None,
        max_in_flight: int,
        clock: Callable[[], float] = time.monotonic,
        remembered: float | None = None,
    ) -> None:
        self.name = name
        self.budget = budget
        self.max_in_flight = max_in_flight
        self._clock = clock
        self._changed = asyncio.Condition()
        self.in_flight = 0
        self.rate: float | None = None  # requests/s paced to; None = not limited
        self._limiter: AsyncLimiter | None = None
        self._ceiling: float | None = None  # the stated budget's pace, never exceeded
        # the limit measured on an earlier night (a stated budget wins over it)
        self.remembered = None if budget is not None else remembered
        if budget is not None:
            burst = max(1, budget.count // 100)
            self._ceiling = (budget.count - burst) / budget.window_seconds
            self._set_rate(self._ceiling, burst)
        elif self.remembered is not None:
            self._set_rate(max(MIN_RATE, self.remembered * SAFETY))
        self.window = max_in_flight if self.rate else min(INITIAL_IN_FLIGHT, max_in_flight)
        self.paused_until = 0.0
        self._epoch = 0  # pauses so far; a request remembers the epoch it was sent in
        self._probing = False
        self._backoff = FIRST_BACKOFF_SECONDS
        self._started_at: float | None = None
        self._reset_at: float | None = None  # first answer after the last pause
        self._accepted = 0  # answers since _reset_at (or since the start)
        self._last_interval = 0.0  # seconds between the last two window resets
        self._quiet_since = 0.0
        self.throttled_count = 0
        self.found_rates: list[float] = []  # every rate found from 429s, in order

    @property
    def limit(self) -> float | None:
        """The server's limit in requests/s: found tonight, else remembered; None unknown."""
        return self.found_rates[-1] if self.found_rates else self.remembered

    @property
    def paused(self) -> bool:
        return self._clock() < self.paused_until

    async def acquire(self) -> int:
        """Waits until this API may send one more request; returns the request's ticket,
        to be handed back to `answered`, `throttled` or `released`."""
        async with self._changed:
            while True:
                wait = self.paused_until - self._clock()
                allowed = 1 if self._probing else self.window
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), wait)
                elif self.in_flight >= allowed:
                    await self._changed.wait()
                else:
                    break
            self.in_flight += 1
            if self._started_at is None:
                self._started_at = self._quiet_since = self._clock()
            self._raise_after_quiet()
            limiter, ticket = self._limiter, self._epoch
        if limiter is not None:
            await limiter.acquire()
        return ticket

    def answered(self, ticket: int) -> None:
        """The request got an answer other than 429."""
        now = self._clock()
        if self._probing and ticket == self._epoch:  # the probe: a new window has begun
            self._window_reset(now)
        self._accepted += 1
        if self.rate is None and self.window < self.max_in_flight:
            self.window += 1
        self._release()

    def released(self, ticket: int) -> None:
        """The request ended without an answer (a transport failure)."""
        self._release()

    def throttled(self, ticket: int, retry_after: float | None) -> None:
        """The request was answered 429: pause the API, then probe.

        A 429 of a request sent before the current pause began belongs to the same
        episode: it may lengthen the pause but does not double the backoff again.
        """
        now = self._clock()
        self.throttled_count += 1
        same_episode = self._probing and ticket < self._epoch
        if retry_after is not None:
            pause = retry_after
        elif same_episode:
            pause = 0.0
        else:
            pause = self._backoff
            self._backoff = min(self._backoff * 2, MAX_BACKOFF_SECONDS)
        self.paused_until = max(self.paused_until, now + pause)
        if not same_episode:
            self._epoch += 1
        self._probing = True
        self._quiet_since = now
        self._release()

    def _release(self) -> None:
        self.in_flight -= 1
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _window_reset(self, now: float) -> None:
        """The first answer after a pause: the server began a new window."""
        start = self._reset_at if self._reset_at is not None else self._started_at
        if start is not None and now > start and self._accepted:
            found = self._accepted / (now - start)
            self.found_rates.append(found)
            self._last_interval = now - start
            self._set_rate(max(MIN_RATE, min(found * SAFETY, self._ceiling or found)))
        self._reset_at, self._accepted = now, 0
        self._quiet_since = now
        self._probing = False
        self._backoff = FIRST_BACKOFF_SECONDS
        self.window = self.max_in_flight

    def _raise_after_quiet(self) -> None:
        if self.rate is None or self.limit is None or self.rate == self._ceiling:
            return
        now = self._clock()
        if now - self._quiet_since >= max(MIN_QUIET_SECONDS, self._last_interval):
            self._quiet_since = now
            raised = self.rate * RAISE_FACTOR
            self._set_rate(min(raised, self._ceiling) if self._ceiling else raised)

    def _set_rate(self, rate: float, burst: int = 1) -> None:
        self.rate = rate
        self._limiter = _limiter(rate, burst)


class Throttles:
    """The throttle of every API, created on first use."""

    def __init__(
        self,
        budgets: dict[str, Rate],
        max_in_flight: int,
        clock: Callable[[], float] = time.monotonic,
        remembered: dict[str, float] | None = None,
    ) -> None:
        self._budgets = budgets
        self._max_in_flight = max_in_flight
        self._clock = clock
        self._remembered = remembered or {}
        self.by_api: dict[str, ApiThrottle] = {}

    def __getitem__(self, api: str) -> ApiThrottle:
        throttle = self.by_api.get(api)
        if throttle is None:
            throttle = ApiThrottle(
                api,
                self._budgets.get(api),
                self._max_in_flight,
                self._clock,
                self._remembered.get(api),
            )
            self.by_api[api] = throttle
        return throttle
