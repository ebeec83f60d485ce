"""Fault injection: latency, 5xx, 429 rate limiting, connection resets, truncated bodies, drift,
revoked credentials, a key the contract does not know, earns under other names.

Random choices come from `random.Random(seed)`, drawn in request order, the same number
of draws for every request, so a run is reproducible given the seed and request order.
Only the rate limiter looks at the (monotonic) clock.

Rate limits work the vendor's way: per API, per fixed window (`100/min`: at most 100
requests of each API in every clock-aligned minute since the server started), answered
429 with the vendor's error envelope and, unless switched off, `Retry-After` in whole
seconds until the window ends. Refused requests do not count against the window.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipelines.client.endpoints import API_NAMES, DETAIL_ENDPOINT, LIST_ENDPOINT, META_ENDPOINT
from pipelines.client.rates import Rate, parse_rate_limits

FAIL_STATUSES = (500, 502, 503)


@dataclass(frozen=True)
class Faults:
    latency_ms: float = 0.0  # mean added latency per request (random around the mean, seeded)
    fail_rate: float = 0.0  # share of requests answered 500/502/503 with the error envelope
    rate_limit: str | None = None  # per API per fixed window: "100/min" or "badge_meta=5/s,..."
    retry_after: bool = True  # send Retry-After with a 429 (the vendor's docs don't promise it)
    reset_rate: float = 0.0  # share of responses whose connection is dropped mid-body
    truncate_rate: float = 0.0  # share of responses whose body is cut short (broken JSON)
    drift: bool = False  # list order shifts between page requests of one list
    revoke_after: int = 0  # credentials stop working after this many requests (0 = never)
    # "KEY=JSON": every badge the API answers (a meta, a detail, a list entry) also carries
    # KEY with that value, as when the vendor adds a field to its model
    new_key: str | None = None
    # every earn of a detail carries its keys under other plausible names (`RENAMED_EARN_KEYS`),
    # as if the vendor's earn objects were not shaped like our guess
    renamed_earns: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        parse_rate_limits(self.rate_limit, "sandbox --rate-limit")  # fail at start, not later
        self.added_key()

    def added_key(self) -> tuple[str, Any] | None:
        """The new key's name and value; ValueError when `new_key` is not KEY=JSON."""
        if self.new_key is None:
            return None
        key, equals, value = self.new_key.partition("=")
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            parsed = equals = ""
        if not key or not equals:
            raise ValueError(f"sandbox --new-key: not KEY=JSON: {self.new_key!r}")
        return key, parsed


def with_added_key(endpoint: str, body: bytes, key: str, value: Any) -> bytes:
    """`body` of a successful answer with `key` in each badge object it holds."""
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        return body
    if endpoint == LIST_ENDPOINT.name:
        badges = data.get("badges")
        objects = badges if isinstance(badges, list) else []
    else:
        objects = [data] if endpoint in (META_ENDPOINT.name, DETAIL_ENDPOINT.name) else []
    for badge in objects:
        if isinstance(badge, dict):
            badge[key] = value
    return orjson.dumps(answer)


# An earn's keys under other names a vendor might use: none of them a name the contract maps.
RENAMED_EARN_KEYS = {
    "earnId": "id",
    "earnedOn": "earnedDate",
    "earnEventDate": "eventDate",
    "earnExpiresOn": "expiryDate",
    "earnStatus": "state",
    "issueId": "issualId",
    "ownerType": "awardedByType",
    "ownerReferenceId": "awardedById",
}


def with_renamed_earns(endpoint: str, body: bytes) -> bytes:
    """`body` of a successful detail answer with each earn's keys (and their ISO twins)
    renamed by `RENAMED_EARN_KEYS`."""
    if endpoint != DETAIL_ENDPOINT.name:
        return body
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    data = answer.get("data") if isinstance(answer, dict) else None
    details = data.get("earnDetails") if isinstance(data, dict) else None
    earns = details.get("earns") if isinstance(details, dict) else None
    if not isinstance(earns, list) or not earns:
        return body
    details["earns"] = [_renamed(earn) for earn in earns]
    return orjson.dumps(answer)


def _renamed(earn: Any) -> Any:
    if not isinstance(earn, dict):
        return earn
    renamed = {}
    for key, value in earn.items():
        base = key.removesuffix("ISO")
        if base in RENAMED_EARN_KEYS:
            key = RENAMED_EARN_KEYS[base] + key[len(base) :]
        renamed[key] = value
    return renamed


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
class Throttled:
    """A request refused by the rate limit; `retry_after` is None when the header is off."""

    retry_after: int | None


@dataclass(frozen=True)
class Decision:
    """The faults drawn for one request."""

    delay_seconds: float = 0.0
    fail_status: int | None = None
    reset: bool = False
    truncate: bool = False


class FaultInjector:
    def __init__(
        self, faults: Faults, stats: SandboxStats, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.faults = faults
        self.stats = stats
        self._rng = random.Random(faults.seed)
        self._drift_rng = random.Random(f"drift-{faults.seed}")
        self._drift_shift: dict[tuple[str, str], int] = {}
        self._clock = clock
        self._started = clock()
        self._limits = parse_rate_limits(faults.rate_limit, "sandbox --rate-limit", API_NAMES)
        self._windows: dict[str, tuple[int, int]] = {}  # API -> (window index, requests in it)

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

    def throttle(self, endpoint: str) -> Throttled | None:
        """Counts the request against its API's window; a Throttled when the window is full."""
        limit: Rate | None = self._limits.get(endpoint)
        if limit is None:
            return None
        elapsed = self._clock() - self._started
        index = int(elapsed // limit.window_seconds)
        current, used = self._windows.get(endpoint, (index, 0))
        if current != index:
            used = 0
        if used < limit.count:
            self._windows[endpoint] = (index, used + 1)
            return None
        self._windows[endpoint] = (index, used)
        self.stats.rate_limited += 1
        if not self.faults.retry_after:
            return Throttled(None)
        window_end = (index + 1) * limit.window_seconds
        return Throttled(max(1, math.ceil(window_end - elapsed)))

    def drift_shift(self, customer_id: str, list_type: str) -> int:
        """How far this page request sees the list rotated: grows by 1 or 2 per request,
        as if badges were being inserted at the front between requests."""
        key = (customer_id, list_type)
        shift = self._drift_shift.get(key, 0) + 1 + self._drift_rng.randrange(2)
        self._drift_shift[key] = shift
        self.stats.drifted_pages += 1
        return shift
