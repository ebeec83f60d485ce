"""Fault injection: latency, 5xx, 429 rate limiting, connection resets, truncated bodies, drift.

Random choices come from `random.Random(seed)`, drawn in request order, the same number
of draws for every request, so a run is reproducible given the seed and request order.
Only the rate limiter looks at the (monotonic) clock.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field

FAIL_STATUSES = (500, 502, 503)


@dataclass(frozen=True)
class Faults:
    latency_ms: float = 0.0  # mean added latency per request (random around the mean, seeded)
    fail_rate: float = 0.0  # share of requests answered 500/502/503 with the error envelope
    rate_limit: float = 0.0  # requests/s above which it answers 429 with Retry-After (0 = off)
    reset_rate: float = 0.0  # share of responses whose connection is dropped mid-body
    truncate_rate: float = 0.0  # share of responses whose body is cut short (broken JSON)
    drift: bool = False  # list order shifts between page requests of one list
    seed: int = 0


@dataclass
class SandboxStats:
    """What the sandbox saw and did; `requests` counts calls per endpoint name."""

    requests: Counter[str] = field(default_factory=Counter)
    auth_failures: int = 0
    rate_limited: int = 0
    failures: int = 0
    resets: int = 0
    truncations: int = 0
    drifted_pages: int = 0
    delays: int = 0
    delay_seconds: float = 0.0

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def faults_injected(self) -> int:
        return (
            self.rate_limited + self.failures + self.resets + self.truncations + self.drifted_pages
        )


@dataclass(frozen=True)
class Decision:
    """The faults drawn for one request."""

    delay_seconds: float = 0.0
    fail_status: int | None = None
    reset: bool = False
    truncate: bool = False


class FaultInjector:
    def __init__(self, faults: Faults, stats: SandboxStats) -> None:
        self.faults = faults
        self.stats = stats
        self._rng = random.Random(faults.seed)
        self._drift_rng = random.Random(f"drift-{faults.seed}")
        self._drift_shift: dict[tuple[str, str], int] = {}
        self._capacity = max(1.0, faults.rate_limit)
        self._tokens = self._capacity
        self._refilled_at = time.monotonic()

    def decide(self, oauth: bool = False) -> Decision:
        """Draws this request's faults; the OAuth call only ever gets latency."""
        f = self.faults
        draws = [self._rng.random() for _ in range(5)]
        delay = f.latency_ms / 1000.0 * (0.5 + draws[0]) if f.latency_ms > 0 else 0.0
        if delay:
            self.stats.delays += 1
            self.stats.delay_seconds += delay
        if oauth:
            return Decision(delay_seconds=delay)
        fail = FAIL_STATUSES[int(draws[2] * len(FAIL_STATUSES))] if draws[1] < f.fail_rate else None
        return Decision(
            delay_seconds=delay,
            fail_status=fail,
            reset=draws[3] < f.reset_rate,
            truncate=draws[4] < f.truncate_rate,
        )

    def retry_after(self) -> int | None:
        """Seconds to wait when the token bucket is empty, else None (and a token is spent)."""
        rate = self.faults.rate_limit
        if rate <= 0:
            return None
        now = time.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._refilled_at) * rate)
        self._refilled_at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        self.stats.rate_limited += 1
        return max(1, math.ceil((1.0 - self._tokens) / rate))

    def drift_shift(self, customer_id: str, list_type: str) -> int:
        """How far this page request sees the list rotated: grows by 1 or 2 per request,
        as if badges were being inserted at the front between requests."""
        key = (customer_id, list_type)
        shift = self._drift_shift.get(key, 0) + 1 + self._drift_rng.randrange(2)
        self._drift_shift[key] = shift
        self.stats.drifted_pages += 1
        return shift
