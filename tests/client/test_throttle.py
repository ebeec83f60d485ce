import asyncio

from pipelines.client.throttle import AdaptiveRate
from tests.client.fake_clock import FakeClock


def test_a_429_slows_the_whole_client_then_it_recovers_to_the_budget():
    clock = FakeClock()
    rate = AdaptiveRate(budget=100.0, clock=clock)
    assert rate.rate == 100.0

    rate.throttled(retry_after=2.0)
    assert rate.rate == 70.0  # cut to 70% for every caller, not only the refused one
    rate.throttled(retry_after=2.0)  # the same burst of 429s: one signal
    assert rate.rate == 70.0

    async def recover() -> list[float]:
        clock.now += 3.0  # past Retry-After, a quiet second later: step back up
        seen = []
        for _ in range(10):
            await rate.acquire()
            seen.append(rate.rate)
            clock.now += 1.1
        return seen

    rates = asyncio.run(recover())
    assert 70.0 < rates[0] < 100.0
    assert rates == sorted(rates) and rates[-1] == 100.0  # back up, never above the budget


def test_without_a_budget_a_429_imposes_one_and_it_is_lifted_again():
    clock = FakeClock()
    rate = AdaptiveRate(budget=0.0, clock=clock)

    async def scenario() -> tuple[float | None, float | None]:
        for _ in range(50):
            await rate.acquire()  # 50 requests in the last second
        rate.throttled(retry_after=None)
        after_429 = rate.rate
        for _ in range(40):
            clock.now += 1.1
            await rate.acquire()
        return after_429, rate.rate

    after_429, recovered = asyncio.run(scenario())
    assert after_429 == 35.0
    assert recovered is None  # far above demand again: unlimited
