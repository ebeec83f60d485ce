"""One API's share of the vendor's rate limit, stated or found from the server's 429s.

The vendor limits each API on its own, per fixed window (100 per minute on demo
clusters), so every API gets its own `ApiThrottle` and list, detail and meta calls
proceed side by side, each at its own pace.

- **Stated budget** (`CAPILLARY_RATE_LIMIT`): requests are spaced evenly, with a burst of
  at most 1% of the limit, so no fixed window of the server's, wherever it starts, can
  see more than the limit.
- **A limit remembered** from an earlier night at the same host: paced just under it
  from the first request, so the next night does not find it again.
- **No budget, nothing remembered**: the throttle starts with two requests in flight
  and lets one more in per round of answers (an unlimited server is at full speed within
  a few dozen round trips, and the first 429 finds few requests in flight). The 429s
  reveal the server's window, its count and its length (see `window.py`); the throttle
  paces just under count / length, and tries 5% more after every quiet stretch, so a
  rate found too low is corrected by the next 429.
- **A 429** pauses the whole API, then lets a single probe through; the others follow
  once the probe is answered. The pause lasts until Retry-After; without one, until the
  window's expected reset (the probe goes a little early, and a refused one tries again
  a few hundredths of a window later), or, before the window is known, 0.25 s growing
  1.25-2x per refused probe (further apart when a window accepts few requests, so the
  probes stay a small share of them). A 429 is backpressure, never a failure of the call.
- Requests waiting for their turn when a pause begins are sent back, so none of them
  is refused in the pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping

from pipelines.client.pacer import Pacer
from pipelines.client.rates import Rate
from pipelines.client.window import ServerWindow

INITIAL_IN_FLIGHT = 2
SAFETY = 0.98  # pace this far under a rate found from 429s
RAISE_FACTOR = 1.05  # after a quiet stretch, try this much more
MIN_QUIET_SECONDS = 5.0  # a quiet stretch lasts at least this long,
QUIET_WINDOWS = 3  # and at least this many windows of the server
FIRST_PROBE_SECONDS = 0.25  # without Retry-After, before the window's length is known
PROBE_GROWTH = 1.25  # each refused probe waits this much longer than the last, at least,
MAX_PROBE_GROWTH = 2.0  # and at most:
PROBES_FOR_GROWTH = 16  # this over the requests a window accepts
MAX_PROBE_SECONDS = 8.0
PROBE_MARGIN = 0.01  # of the window: the first probe goes this early before the expected reset
PROBE_STEP = 0.03  # of the window: the first wait after a 429, once the window is known
MIN_RATE = 0.01  # requests/s


class ApiThrottle:
    def __init__(
        self,
        name: str,
        budget: Rate | None,
        max_in_flight: int,
        clock: Callable[[], float] = time.monotonic,
        remembered: Rate | None = None,
    ) -> None:
        self.name = name
        self.budget = budget
        self.max_in_flight = max_in_flight
        self._clock = clock
        self._changed = asyncio.Condition()
        self.in_flight = 0
        self.rate: float | None = None  # requests/s paced to; None = not limited
        self._pacer: Pacer | None = None
        self._ceiling: float | None = None  # the stated budget's pace, never exceeded
        # the limit measured on an earlier night (a stated budget wins over it)
        self.remembered = None if budget is not None else remembered
        if budget is not None:
            burst = max(1, budget.count // 100)
            self._ceiling = (budget.count - burst) / budget.window_seconds
            self._set_rate(self._ceiling, burst)
        elif self.remembered is not None:
            self._set_rate(max(MIN_RATE, self.remembered.per_second * SAFETY))
        self.window = max_in_flight if self.rate else min(INITIAL_IN_FLIGHT, max_in_flight)
        self._answers_at_window = 0  # answers since the window last grew
        self.paused_until = 0.0
        self._epoch = 0  # pauses so far; a request remembers the epoch it was sent in
        self._probing = False
        self._probe_wait = FIRST_PROBE_SECONDS  # after the next refused probe
        self._waited_for_reset = False  # this pause has probed at the expected reset
        self._started_at: float | None = None
        self._refused_at = 0.0  # the last time the server's window was known to be full
        self.server = ServerWindow(self.remembered)  # the window, as the 429s reveal it
        self._accepted = 0  # answers since the last reset was found (or since the start)
        self._quiet_since = 0.0
        self.throttled_count = 0
        self.found_rates: list[float] = []  # every rate found from 429s, in order

    @property
    def limit(self) -> float | None:
        """The server's limit in requests/s: found tonight, else remembered; None unknown."""
        if self.found_rates:
            return self.found_rates[-1]
        return self.remembered.per_second if self.remembered else None

    @property
    def measured(self) -> Rate | None:
        """The server's limit as its window's count and length, once two window resets
        have been found tonight; else the limit remembered; None unknown."""
        return (self.server.measured if self.found_rates else None) or self.remembered

    @property
    def paused(self) -> bool:
        return self._clock() < self.paused_until

    async def acquire(self) -> int:
        """Waits until this API may send one more request; returns the request's ticket,
        to be handed back to `answered`, `throttled` or `released`."""
        while True:
            async with self._changed:
                await self._wait_for_turn()
                self.in_flight += 1
                if self._started_at is None:
                    self._started_at = self._quiet_since = self._clock()
                self._raise_after_quiet()
                pacer, ticket = self._pacer, self._epoch
            if pacer is None:
                return ticket
            await pacer.wait()
            if ticket == self._epoch:
                return ticket
            self._release()  # a pause began while it waited for its pace: wait again

    async def _wait_for_turn(self) -> None:
        while True:
            wait = self.paused_until - self._clock()
            allowed = 1 if self._probing else self.window
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)
            elif self.in_flight >= allowed:
                await self._changed.wait()
            else:
                return

    def answered(self, ticket: int) -> None:
        """The request got an answer other than 429."""
        now = self._clock()
        if self._probing and ticket == self._epoch:  # the probe: a new window has begun
            self._window_reset(now)
        self._accepted += 1
        if self.rate is None and self.window < self.max_in_flight:
            self._grow_window()
        self._release()

    def released(self, ticket: int) -> None:
        """The request ended without an answer (a transport failure)."""
        self._release()

    def throttled(self, ticket: int, retry_after: float | None) -> None:
        """The request was answered 429: pause the API, then probe.

        A 429 of a request sent before the current pause began belongs to the same
        episode: it may lengthen the pause but starts no new one.
        """
        now = self._clock()
        self.throttled_count += 1
        if ticket < self._epoch and not self._probing:
            self._release()  # sent before the last pause, answered after its reset was found
            return
        self._refused_at = max(self._refused_at, now)
        if retry_after is not None:  # whole seconds are rounded up: the reset is within 1 s
            rounding = 1.0 if retry_after.is_integer() else 0.0
            self._refused_at = max(self._refused_at, now + retry_after - rounding)
        same_episode = ticket < self._epoch
        if retry_after is not None:
            pause = retry_after
        elif same_episode:
            pause = 0.0
        else:
            pause = self._probe_delay(now)
        self.paused_until = max(self.paused_until, now + pause)
        if not same_episode:
            self._epoch += 1
            if self._pacer is not None:  # the requests waiting for their slots are sent back
                self._pacer.restart()
        self._probing = True
        self._quiet_since = now
        self._release()

    def _probe_delay(self, now: float) -> float:
        """How long to wait before the next probe, without Retry-After.

        Once the window is known, the first probe goes a small step after the 429 (paced
        near the limit, a window fills just before it ends), the second a little before
        the window's expected reset, and later ones a growing step apart. Before, the
        probes go a growing step apart from the first 429 on."""
        expected = self.server.expected_reset(now, PROBE_MARGIN)
        if not self._probing:  # a new pause
            self._probe_wait = FIRST_PROBE_SECONDS
            if self.server.seconds is not None:
                self._probe_wait = PROBE_STEP * self.server.seconds
            self._waited_for_reset = expected is None
        elif not self._waited_for_reset and expected is not None:
            self._waited_for_reset = True
            if expected - now > self._probe_wait:
                return expected - now
        delay = self._probe_wait
        self._probe_wait = min(self._probe_wait * self._probe_growth(), MAX_PROBE_SECONDS)
        return delay

    def _probe_growth(self) -> float:
        """How much longer each refused probe waits: the fewer requests a window accepts,
        the further apart, so that probes stay a small share of the requests."""
        accepted = self.server.count or self._accepted
        return min(MAX_PROBE_GROWTH, max(PROBE_GROWTH, PROBES_FOR_GROWTH / max(accepted, 1)))

    def _release(self) -> None:
        self.in_flight -= 1
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _grow_window(self) -> None:
        """One more request in flight per round of answers, so the first 429 finds few
        requests in flight."""
        self._answers_at_window += 1
        if self._answers_at_window >= self.window:
            self.window += 1
            self._answers_at_window = 0

    def _window_reset(self, now: float) -> None:
        """The first answer after a pause: the server began a new window, after the last
        refusal and before this answer."""
        refused_at = max(self._refused_at, self.server.reset_at or 0.0)
        since = self._started_at if self._started_at is not None else now
        found = self.server.reset(refused_at, now, self._accepted, since)
        if found is not None:
            self._set_found(found)
        self._accepted = 0
        self._quiet_since = now
        self._probing = False
        self.window = self.max_in_flight

    def _set_found(self, found: float) -> None:
        self.found_rates.append(found)
        self._set_rate(max(MIN_RATE, min(found * SAFETY, self._ceiling or found)))

    def _raise_after_quiet(self) -> None:
        if self.rate is None or self.limit is None or self.rate == self._ceiling:
            return
        now = self._clock()
        if now - self._quiet_since >= max(
            MIN_QUIET_SECONDS, QUIET_WINDOWS * (self.server.seconds or 0)
        ):
            self._quiet_since = now
            raised = self.rate * RAISE_FACTOR
            self._set_rate(min(raised, self._ceiling) if self._ceiling else raised)

    def _set_rate(self, rate: float, burst: int = 1) -> None:
        self.rate = rate
        if self._pacer is None:
            self._pacer = Pacer(rate, burst, self._clock)
        else:
            self._pacer.set_rate(rate)


class Throttles:
    """The throttle of every API, created on first use."""

    def __init__(
        self,
        budgets: dict[str, Rate],
        max_in_flight: int,
        clock: Callable[[], float] = time.monotonic,
        remembered: Mapping[str, Rate] | None = None,
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
