"""Services any test can ask for by fixture name, started only when one does:
`postgres` (a throwaway PostgreSQL cluster) and `s3` (moto's S3 server); see tests/services/.
And each test's clock (tests/clock.py), started before its fixtures."""

import pytest

from tests.clock import start_test

pytest_plugins = ["tests.services.postgres", "tests.services.s3"]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """`tests.clock.today()` is the day this test started on."""
    start_test()
