"""A circuit breaker: stop within seconds when the API is down, instead of retrying every call.

Each attempt that ends without an HTTP answer, or with a 5xx, counts as a failure; any
other answer (429 included: the server is there) resets the count. The breaker trips
after `consecutive` failures in a row, or when every attempt has failed for
`silence_seconds` (slow failures such as timeouts). Once tripped, every call raises
`ApiUnavailable` with the reason, and the run stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pipelines.client.errors import ApiUnavailable

CONSECUTIVE_FAILURES = 50
SILENCE_SECONDS = 10.0
MIN_FAILURES_FOR_SILENCE = 3


class CircuitBreaker:
    def __init__(
        self,
        base_url: str,
        consecutive: int = CONSECUTIVE_FAILURES,
        silence_seconds: float = SILENCE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url
        self.consecutive = consecutive
        self.silence_seconds = silence_seconds
        self._clock = clock
        self._failures = 0
        self._last_answer = clock()
        self._last_failure = ""
        self.reason: str | None = None

    def answered(self) -> None:
        self._failures = 0
        self._last_answer = self._clock()

    def failed(self, description: str) -> None:
        self._failures += 1
        self._last_failure = description
        silent = self._clock() - self._last_answer
        if self._failures >= self.consecutive:
            self._trip(f"{self._failures} requests in a row failed")
        elif self._failures >= MIN_FAILURES_FOR_SILENCE and silent >= self.silence_seconds:
            self._trip(f"every request failed for {silent:.0f} s")

    def check(self) -> None:
        if self.reason is not None:
            raise ApiUnavailable(self.reason)

    def _trip(self, what: str) -> None:
        if self.reason is None:
            self.reason = f"API unreachable: {what} at {self.base_url} (last: {self._last_failure})"
