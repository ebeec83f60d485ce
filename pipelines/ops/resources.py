"""Dagster resources: the API source, the data directory and the bucket, configured from the
environment (`ops.settings` reads every other variable).

Secrets are passed as `EnvVar` references, so Dagster stores the variable's name in
run configuration, never its value.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource, EnvVar

from pipelines.client.rates import parse_rate_limits
from pipelines.client.settings import ClientTuning
from pipelines.lake.layout import DEFAULT_DATA_DIR, Lake
from pipelines.lake.mirror import Mirror, mirror_of
from pipelines.lake.objectstore import BucketAccess
from pipelines.ops.settings import (
    BUCKET_VARIABLE,
    DATA_DIR_VARIABLE,
    ENDPOINT_VARIABLE,
    bucket_access,
    engine_limits,
)
from pipelines.ops.source import SandboxSize, Source, SourceConfig, open_source


class CapillaryApiResource(ConfigurableResource):
    """The Badges API (or, with no base_url, the embedded sandbox) and the customers to pull."""

    base_url: str | None = None
    username: str | None = None
    password: str | None = None
    client_key: str | None = None
    client_secret: str | None = None
    customers_file: str | None = None
    active_customers_file: str | None = None
    rate_limit: str | None = None  # the vendor's limits: "100/min" or "customer_badges=600/min,..."
    concurrency: int = 32
    page_size: int = 50
    max_attempts: int = 6
    transport: str = "aiohttp"
    sandbox_customers: int = 300
    sandbox_badges: int = 80
    sandbox_seed: int = 7

    @contextmanager
    def open(self, rate_limit: str | None = None) -> Iterator[Source]:
        """The source; `rate_limit` (when given) replaces the configured limits."""
        tuning = ClientTuning(
            concurrency=self.concurrency,
            rate_limits=parse_rate_limits(rate_limit or self.rate_limit),
            page_size=self.page_size,
            max_attempts=self.max_attempts,
            transport=self.transport,
        )
        config = SourceConfig(
            base_url=self.base_url,
            username=self.username,
            password=self.password,
            client_key=self.client_key,
            client_secret=self.client_secret,
            customers_file=self.customers_file,
            active_customers_file=self.active_customers_file,
            tuning=tuning,
            sandbox=SandboxSize(self.sandbox_customers, self.sandbox_badges, self.sandbox_seed),
        )
        with open_source(config) as source:
            yield source


class LakeResource(ConfigurableResource):
    """The data directory: the Parquet lake, the raw archive and the DuckDB warehouse."""

    data_dir: str = DEFAULT_DATA_DIR
    bucket_url: str | None = None  # BADGES_BUCKET_URL: the bucket is the system of record

    @property
    def lake(self) -> Lake:
        """The lake, with the engines' limits of the settings."""
        return Lake(Path(self.data_dir).resolve(), self.bucket_url or None, engine_limits())


class BucketResource(ConfigurableResource):
    """How the lake's bucket (`LakeResource.bucket_url`) is reached: its endpoint and region
    (default `AWS_ENDPOINT_URL`, `AWS_REGION`); the credentials are the AWS SDK's chain."""

    endpoint: str | None = None
    region: str | None = None

    def access(self) -> BucketAccess:
        settings = bucket_access()
        return BucketAccess(
            self.endpoint or settings.endpoint, self.region or settings.region, settings.secrets
        )

    def mirror(self, lake: Lake) -> Mirror | None:
        """The lake's mirror in the bucket; None when the lake has no bucket."""
        return mirror_of(lake, self.access())


API_VARIABLES = {
    "base_url": "CAPILLARY_BASE_URL",
    "username": "CAPILLARY_USERNAME",
    "password": "CAPILLARY_PASSWORD",
    "client_key": "CAPILLARY_CLIENT_KEY",
    "client_secret": "CAPILLARY_CLIENT_SECRET",
    "customers_file": "CAPILLARY_CUSTOMERS",
    "active_customers_file": "CAPILLARY_ACTIVE_CUSTOMERS",
    "rate_limit": "CAPILLARY_RATE_LIMIT",
}


def _env(name: str) -> EnvVar | None:
    return EnvVar(name) if os.environ.get(name) else None


def resources_from_env() -> dict[str, ConfigurableResource]:
    """The code location's resources: variables as `EnvVar`s, resolved by Dagster per run."""
    api_config = {field: _env(var) for field, var in API_VARIABLES.items() if _env(var)}
    return {
        "capillary_api": CapillaryApiResource(**api_config),
        "lake": LakeResource(
            data_dir=_env(DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR,
            bucket_url=_env(BUCKET_VARIABLE),
        ),
        "bucket": BucketResource(endpoint=_env(ENDPOINT_VARIABLE)),
    }


def api_from_env() -> CapillaryApiResource:
    """The API resource with the variables' values, for commands that run outside Dagster."""
    values = {field: os.environ[var] for field, var in API_VARIABLES.items() if os.environ.get(var)}
    return CapillaryApiResource(**values)
