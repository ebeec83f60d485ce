"""The circuit breaker stops a run against an API that is down, and only then."""

from __future__ import annotations

import pytest

from pipelines.client.breaker import CircuitBreaker
from pipelines.client.errors import ApiUnavailable
from tests.client.fake_clock import FakeClock

URL = "https://eu.api.example.test"


def test_fifty_failures_in_a_row_trip_it_with_the_last_error():
    breaker = CircuitBreaker(URL, clock=FakeClock())
    for _ in range(49):
        breaker.failed("ClientConnectorError (connection refused)")
    breaker.check()  # 49: still going
    breaker.failed("ClientConnectorError (connection refused)")
    with pytest.raises(
        ApiUnavailable, match="API unreachable: 50 requests in a row failed"
    ) as trip:
        breaker.check()
    assert URL in str(trip.value) and "connection refused" in str(trip.value)


def test_any_answer_resets_the_count():
    breaker = CircuitBreaker(URL, clock=FakeClock())
    for _ in range(10):
        for _ in range(40):
            breaker.failed("HTTP 503")
        breaker.answered()  # a 200, a 404 or a 429: the API is there
    breaker.check()


def test_slow_failures_trip_it_once_nothing_answered_for_the_silence():
    clock = FakeClock(start=0.0)
    breaker = CircuitBreaker(URL, clock=clock)
    breaker.answered()
    clock.now = 4.0
    for _ in range(5):
        breaker.failed("timed out")
    breaker.check()  # only 4 s without an answer
    clock.now = 10.5
    breaker.failed("timed out")
    with pytest.raises(ApiUnavailable, match="every request failed for 10 s"):
        breaker.check()


def test_silence_alone_is_no_failure():
    clock = FakeClock(start=0.0)
    breaker = CircuitBreaker(URL, clock=clock)
    clock.now = 600.0  # waiting out a long Retry-After, say
    breaker.failed("timed out")
    breaker.failed("timed out")
    breaker.check()  # fewer than 3 failures
