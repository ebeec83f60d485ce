"""Fixtures of the operations tests: a sandbox API and the environment pointing at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.sandbox import Faults, SandboxCredentials, SandboxServer, generate_org
from tests.clock import today


@dataclass
class Api:
    server: SandboxServer
    credentials: SandboxCredentials
    customers_csv: Path

    def environment(self, data_dir: Path, **overrides: str) -> dict[str, str]:
        """This process's environment without our variables, then the API's and `overrides`."""
        environment = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CAPILLARY_", "BADGES_")) and k != "DAGSTER_HOME"
        }
        environment.update(
            CAPILLARY_BASE_URL=self.server.base_url,
            CAPILLARY_USERNAME=self.credentials.username,
            CAPILLARY_PASSWORD=self.credentials.password,
            CAPILLARY_CUSTOMERS=str(self.customers_csv),
            BADGES_DATA_DIR=str(data_dir),
        )
        environment.update(overrides)
        return environment


@contextmanager
def started_api(
    directory: Path, faults: Faults | None = None, customers: int = 40
) -> Iterator[Api]:
    org = generate_org(customers=customers, badges=24, seed=11, as_of=today())
    credentials = SandboxCredentials.random()
    customers_csv = directory / "customers.csv"
    org.write_customers_csv(customers_csv)
    with SandboxServer(org, credentials=credentials, faults=faults or Faults()) as server:
        yield Api(server, credentials, customers_csv)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with started_api(tmp_path_factory.mktemp("api")) as started:
        yield started
