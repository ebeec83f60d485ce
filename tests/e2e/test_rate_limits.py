"""The vendor's rate limits, per API and per fixed window: a 429 is backpressure, never a row lost.

The sandbox limits each API to 20 requests per 1 s window (a short window stands in for
the vendor's minute). The client is given one attempt per call, so a single 429 that
spent an attempt would show as a failed call.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.lake.tables import TABLES
from pipelines.sandbox import Faults, generate_org
from tests.e2e.conftest import TODAY, Pipeline, run_against, start_pipeline
from tests.e2e.test_faults import _differences

SERVER_LIMIT = "20/s"
ORG = {"customers": 30, "badges": 16, "seed": 17}


@pytest.fixture(scope="module")
def unlimited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    org = generate_org(**ORG, as_of=TODAY)
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
    org = generate_org(**ORG, as_of=TODAY)
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
