"""The vendor's rate limits, per API and per fixed window: a 429 is backpressure, never a row lost.

The sandbox limits each API to 20 requests per 1 s window (a short window stands in for
the vendor's minute). The client is given one attempt per call, so a single 429 that
spent an attempt would show as a failed call. A night remembers the limits it measured,
so the next one starts at their pace.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.client.rates import parse_rate
from pipelines.client.settings import api_host
from pipelines.lake.nightrecord import read_night_note
from pipelines.lake.tables import TABLES
from pipelines.sandbox import Faults, generate_org
from tests.e2e.conftest import Pipeline, run_against, start_pipeline, today
from tests.e2e.test_faults import _differences

SERVER_LIMIT = "20/s"
ORG = {"customers": 30, "badges": 16, "seed": 17}


@pytest.fixture(scope="module")
def unlimited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    org = generate_org(**ORG, as_of=today())
    runs = start_pipeline(tmp_path_factory.mktemp("unlimited"), org)
    pipeline = next(runs)
    assert pipeline.run().success
    yield pipeline
    runs.close()


@pytest.mark.parametrize(
    ("retry_after", "stated"),
    [(True, None), (False, None), (True, SERVER_LIMIT)],
    ids=["found-with-retry-after", "found-without-retry-after", "stated-budget"],
)
def test_a_rate_limited_night_loads_what_an_unlimited_one_loads(
    tmp_path: Path, unlimited: Pipeline, retry_after: bool, stated: str | None
):
    faults = Faults(rate_limit=SERVER_LIMIT, retry_after=retry_after)
    org = generate_org(**ORG, as_of=today())
    limited, metadata, stats = run_against(tmp_path, org, faults, max_attempts=1, rate_limit=stated)

    assert metadata["failed_calls"] == 0
    assert metadata["throttled_429"] == stats.rate_limited
    share = stats.rate_limited / stats.total_requests
    assert share <= 0.25, f"{stats.rate_limited} of {stats.total_requests} requests were 429s"
    if stated is None:
        assert stats.rate_limited > 0  # the limit was found from the server's 429s
        assert metadata["found_rates_per_minute"]
    else:
        assert share <= 0.02  # paced under the stated budget
    assert limited.row_counts() == unlimited.row_counts()
    for table in TABLES:
        differences = _differences(
            unlimited.lake.warehouse_path, limited.lake.warehouse_path, table
        )
        assert differences == 0, table


def test_the_next_night_starts_at_the_limits_the_last_one_measured(tmp_path: Path) -> None:
    """30 customers against 16 requests per 2 s window, without Retry-After: the
    first night finds the limits with at most a quarter of its requests refused and
    records them per API for the sandbox's host; the second night, paced at them from
    its first request, is refused far less."""
    org = generate_org(**ORG, as_of=today())
    runs = start_pipeline(tmp_path, org, Faults(rate_limit="16/2s", retry_after=False))
    pipeline = next(runs)
    try:
        stats = pipeline.server.stats
        assert pipeline.run(max_attempts=1).success
        first_requests, first_429s = stats.total_requests, stats.rate_limited
        note = read_night_note(pipeline.lake.raw_dir(today()))
        assert pipeline.run(max_attempts=1).success
        second_requests = stats.total_requests - first_requests
        second_429s = stats.rate_limited - first_429s
    finally:
        runs.close()

    assert first_429s > 0  # the limits were found from the server's 429s
    assert first_429s <= 0.25 * first_requests, f"{first_429s} of {first_requests} refused"
    assert note is not None
    host = api_host(pipeline.server.base_url)
    assert host.startswith("127.0.0.1:")
    limits = {api: parse_rate(text) for api, text in note.limits[host].items()}
    assert "customer_badges" in limits  # the API with the most calls tonight
    for api, limit in limits.items():
        assert limit.count == 16, (api, limit)  # a window's count is exact
        assert 1.0 <= limit.window_seconds <= 3.0, (api, limit)  # 2 s, within half
    assert second_429s <= max(2, first_429s // 2), (second_429s, first_429s)
    assert second_429s <= 0.1 * second_requests, (second_429s, second_requests)
    after = read_night_note(pipeline.lake.raw_dir(today()))
    assert after is not None and set(after.limits[host]) >= set(limits)
