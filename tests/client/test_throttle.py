"""An API's throttle: stated budgets are paced, unstated limits are found from 429s."""

from __future__ import annotations

import asyncio

import pytest

from pipelines.client.rates import Rate, RateSpecError, parse_rate, parse_rate_limits
from pipelines.client.throttle import INITIAL_IN_FLIGHT, SAFETY, ApiThrottle, Throttles
from tests.client.fake_clock import FakeClock


def _run(coroutine):
    return asyncio.run(coroutine)


async def _answer_requests(throttle: ApiThrottle, count: int, clock: FakeClock | None = None):
    """`count` requests answered one after the other, each (with `clock`) at its pace."""
    for _ in range(count):
        throttle.answered(await throttle.acquire())
        if clock is not None and throttle.rate:
            clock.now += 1 / throttle.rate


def test_rate_limit_texts_read_as_the_vendor_states_them() -> None:
    assert parse_rate("100/min") == Rate(100, 60.0)
    assert parse_rate("20/2s") == Rate(20, 2.0)
    assert parse_rate("6000 / hour") == Rate(6000, 3600.0)
    assert str(Rate(600, 60.0)) == "600/min" and str(Rate(20, 2.0)) == "20/2s"
    every = parse_rate_limits("100/min")
    assert set(every) == {"badge_meta", "customer_badges", "customer_badge_detail"}
    named = parse_rate_limits("customer_badges=600/min, badge_meta=60/min")
    assert named == {"customer_badges": Rate(600, 60.0), "badge_meta": Rate(60, 60.0)}
    assert parse_rate_limits(None) == {} and parse_rate_limits(" ") == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("100", "cannot read '100'"),
        ("100/fortnight", "cannot read"),
        ("0/min", "at least 1 request"),
        ("lists=10/s", "does not name an API"),
    ],
)
def test_unreadable_rate_limits_name_the_variable_and_the_problem(text: str, problem: str):
    with pytest.raises(RateSpecError, match=problem) as error:
        parse_rate_limits(text)
    assert "CAPILLARY_RATE_LIMIT" in str(error.value)


def test_a_stated_budget_is_paced_under_the_limit_of_any_window() -> None:
    throttle = ApiThrottle("customer_badges", Rate(100, 60.0), max_in_flight=32)
    # burst 1, then one every 60/99 s: at most 1 + 99 requests in any 60 s window
    assert throttle.rate == pytest.approx(99 / 60)
    assert throttle.window == 32
    large = ApiThrottle("customer_badges", Rate(1000, 60.0), max_in_flight=32)
    assert large.rate == pytest.approx((1000 - 10) / 60)  # burst 10 = 1% of the limit


def test_without_a_budget_requests_in_flight_start_small_and_grow_per_round_of_answers():
    throttle = ApiThrottle("badge_meta", None, max_in_flight=32, clock=FakeClock())
    assert throttle.window == INITIAL_IN_FLIGHT == 2
    _run(_answer_requests(throttle, 9))  # rounds of 2, 3 and 4 answers
    assert throttle.window == 5
    assert throttle.rate is None  # no 429 yet: not paced at all


def test_the_first_429_pauses_until_retry_after_then_a_single_probe_goes() -> None:
    clock = FakeClock(start=0.0)
    throttle = ApiThrottle("badge_meta", None, max_in_flight=32, clock=clock)

    async def scenario() -> None:
        await _answer_requests(throttle, 20)
        tickets = [await throttle.acquire() for _ in range(3)]
        throttle.throttled(tickets[0], retry_after=5.0)
        throttle.throttled(tickets[1], retry_after=5.0)  # same burst: same episode
        throttle.answered(tickets[2])  # sent before the pause: not the probe
        assert throttle.paused and throttle.throttled_count == 2
        clock.now = 5.0
        probe = await throttle.acquire()
        assert throttle.in_flight == 1
        waiting = asyncio.ensure_future(throttle.acquire())
        await asyncio.sleep(0.05)
        assert not waiting.done()  # only the probe is let through
        throttle.answered(probe)
        throttle.answered(await asyncio.wait_for(waiting, 1.0))

    _run(scenario())
    # 21 answers between the first request (t=0) and the window reset: Retry-After's
    # whole seconds are rounded up, so the reset came within its last second (t=4.5)
    assert throttle.found_rates == [pytest.approx(21 / 4.5)]
    assert throttle.rate == pytest.approx(21 / 4.5 * SAFETY)
    assert throttle.window == 32


def test_the_rate_found_between_two_window_resets_is_the_servers() -> None:
    """A server allowing 10 per 2 s window: found from the requests between two resets."""
    clock = FakeClock(start=0.3)
    throttle = ApiThrottle("customer_badge_detail", None, max_in_flight=32, clock=clock)

    async def window_cycle(accepted: int, refused_at: float, reset_at: float) -> None:
        await _answer_requests(throttle, accepted, clock)
        clock.now = refused_at
        throttle.throttled(await throttle.acquire(), retry_after=reset_at - refused_at)
        clock.now = reset_at
        throttle.answered(await throttle.acquire())

    _run(window_cycle(accepted=9, refused_at=0.4, reset_at=2.0))  # joined mid-window
    first_estimate = throttle.rate
    _run(window_cycle(accepted=9, refused_at=3.9, reset_at=4.0))
    # the first window was joined 0.3 s late: 9 answers in 1.7 s overstate the rate
    assert first_estimate == pytest.approx(9 / 1.7 * SAFETY)
    assert throttle.found_rates[-1] == pytest.approx(10 / 2.0)
    assert throttle.rate == pytest.approx(5.0 * SAFETY)


@pytest.mark.parametrize(
    ("accepted", "pauses"),
    [(1, [0.25, 0.5, 1.0, 2.0]), (40, [0.25, 0.3125, 0.390625, 0.48828125])],
    ids=["few-accepted-per-window", "many-accepted-per-window"],
)
def test_without_retry_after_the_pause_grows_per_refused_probe(
    accepted: int, pauses: list[float]
) -> None:
    """Before the window is known: twice as long per refused probe when the window took
    few requests (few probes), 1.25 times when it took many (a reset found sooner)."""
    clock = FakeClock(start=0.0)
    throttle = ApiThrottle("badge_meta", None, max_in_flight=32, clock=clock)

    async def scenario() -> list[float]:
        await _answer_requests(throttle, accepted)
        found = []
        for _ in range(4):
            throttle.throttled(await throttle.acquire(), retry_after=None)
            found.append(throttle.paused_until - clock.now)
            clock.now = throttle.paused_until
        return found

    assert _run(scenario()) == pytest.approx(pauses)


def test_a_stated_budget_higher_than_the_servers_limit_is_lowered_by_its_429s() -> None:
    clock = FakeClock(start=0.0)
    throttle = ApiThrottle("badge_meta", Rate(600, 60.0), max_in_flight=32, clock=clock)
    budget_pace = throttle.rate

    async def scenario() -> None:
        await _answer_requests(throttle, 30, clock)
        clock.now += 0.5
        throttle.throttled(await throttle.acquire(), retry_after=60.0 - clock.now)
        clock.now = 60.0
        throttle.answered(await throttle.acquire())

    _run(scenario())
    assert throttle.rate == pytest.approx(30 / 60 * SAFETY)
    throttle._quiet_since = -1e9  # a long quiet stretch: raised, but never past the budget
    for _ in range(200):
        throttle._raise_after_quiet()
        throttle._quiet_since = -1e9
    assert throttle.rate == pytest.approx(budget_pace)


def test_throttles_are_one_per_api_with_their_own_budgets() -> None:
    throttles = Throttles({"badge_meta": Rate(60, 60.0)}, max_in_flight=8)
    assert throttles["badge_meta"] is throttles["badge_meta"]
    assert throttles["badge_meta"].budget == Rate(60, 60.0)
    assert throttles["customer_badges"].budget is None
    assert set(throttles.by_api) == {"badge_meta", "customer_badges"}


def test_a_remembered_limit_is_paced_from_the_first_request_and_a_stated_one_wins() -> None:
    remembered = ApiThrottle("badge_meta", None, max_in_flight=32, remembered=Rate(20, 10.0))
    assert remembered.rate == pytest.approx(2.0 * SAFETY)
    assert remembered.window == 32  # paced: no slow start
    assert remembered.limit == 2.0 and remembered.found_rates == []
    assert remembered.measured == Rate(20, 10.0)
    stated = ApiThrottle("badge_meta", Rate(60, 60.0), max_in_flight=32, remembered=Rate(2, 1.0))
    assert stated.rate == pytest.approx(59 / 60)
    assert stated.limit is None and stated.measured is None
    throttles = Throttles({}, max_in_flight=8, remembered={"customer_badges": Rate(3, 1.0)})
    assert throttles["customer_badges"].limit == 3.0
    assert throttles["badge_meta"].limit is None and throttles["badge_meta"].rate is None


class FixedWindowServer:
    """The vendor's way: at most `count` requests per fixed window, refused without
    Retry-After; its windows began `phase` seconds before the client's first request."""

    def __init__(self, clock: FakeClock, count: int, seconds: float, phase: float) -> None:
        self.clock, self.count, self.seconds = clock, count, seconds
        self._began = clock.now - phase
        self._window, self._used = -1, 0

    def accepts(self) -> bool:
        window = int((self.clock.now - self._began) // self.seconds)
        if window != self._window:
            self._window, self._used = window, 0
        if self._used == self.count:
            return False
        self._used += 1
        return True


async def _against(server: FixedWindowServer, throttle: ApiThrottle, calls: int) -> int:
    """`calls` calls one after another, each at its pace and after any pause, asked again
    after every 429; returns the 429s."""
    clock, refused = server.clock, 0
    for _ in range(calls):
        while True:
            clock.now = max(
                clock.now + (1 / throttle.rate if throttle.rate else 0.01), throttle.paused_until
            )
            ticket = await throttle.acquire()
            if server.accepts():
                throttle.answered(ticket)
                break
            refused += 1
            throttle.throttled(ticket, retry_after=None)
    return refused


def test_without_retry_after_the_limit_is_found_with_few_429s_and_remembered_without():
    """40 per 5 s, refused without Retry-After: a first night finds 8/s, exactly enough
    to be paced under; a night that remembers it starts there."""
    clock = FakeClock(start=0.0)
    server = FixedWindowServer(clock, count=40, seconds=5.0, phase=1.3)
    first = ApiThrottle("customer_badge_detail", None, max_in_flight=32, clock=clock)
    refused = _run(_against(server, first, 800))
    assert first.server.count == 40
    assert first.server.seconds == pytest.approx(5.0, rel=0.02)
    assert first.limit == pytest.approx(8.0, rel=0.02)
    assert refused <= 0.05 * 800
    assert clock.now <= 1.05 * (800 / 8.0)  # wall time against the ideal, in fake time

    clock.now += 100.0
    second = ApiThrottle(
        "customer_badge_detail", None, max_in_flight=32, clock=clock, remembered=first.measured
    )
    started = clock.now
    refused_again = _run(_against(server, second, 800))
    assert refused_again <= refused / 2
    assert clock.now - started <= 1.05 * (800 / 8.0)
