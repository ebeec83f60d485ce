"""Where a run's data comes from: the configured API, or the embedded sandbox.

With `CAPILLARY_BASE_URL` unset the sandbox is started as a child process on
127.0.0.1 with fresh random credentials and its own customer list, used for the
run, and stopped afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.client.settings import ApiSettings, ClientTuning
from pipelines.extract.customers import load_customers
from pipelines.lake import Lake
from pipelines.lake.keys import CustomerRef
from pipelines.lake.source_record import SourceIdentity
from pipelines.night.options import NightOptions
from pipelines.night.planner import Population
from pipelines.night.prepare import PreparedNight, prepare_night


@dataclass(frozen=True)
class SandboxSize:
    customers: int = 300
    badges: int = 80
    seed: int = 7


@dataclass(frozen=True)
class SourceConfig:
    base_url: str | None = None
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    client_key: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)
    customers_file: str | None = None
    active_customers_file: str | None = None
    tuning: ClientTuning = field(default_factory=ClientTuning)
    sandbox: SandboxSize = field(default_factory=SandboxSize)


@dataclass(frozen=True)
class Source:
    settings: ApiSettings
    customers: list[CustomerRef]
    is_sandbox: bool
    identity: SourceIdentity  # whose nights these are (`lake.source_record`)
    active_customers: list[CustomerRef] = field(default_factory=list)


def api_identity(settings: ApiSettings) -> SourceIdentity:
    """A configured API by its host and the org its credentials name: the Basic user, or
    a fingerprint of the OAuth client key (the key itself is kept out of files)."""
    host = urlsplit(settings.base_url).hostname or settings.base_url
    if settings.username:
        return SourceIdentity(host, f"user {settings.username}")
    digest = hashlib.sha256((settings.client_key or "").encode()).hexdigest()[:12]
    return SourceIdentity(host, f"OAuth client key sha256 {digest}")


def sandbox_identity(size: SandboxSize) -> SourceIdentity:
    return SourceIdentity(
        "the embedded sandbox",
        f"seed {size.seed}, {size.customers} customers, {size.badges} badges",
    )


def _settings(config: SourceConfig, base_url: str, **credentials: str | None) -> ApiSettings:
    return ApiSettings(base_url=base_url, tuning=config.tuning, **credentials)


class SourceConfigError(ValueError):
    """The API is named without what a night against it needs (credentials, customers)."""


NO_CUSTOMERS_FILE = (
    "CAPILLARY_CUSTOMERS is not set: with a real API (CAPILLARY_BASE_URL) the run needs the "
    "customers file to extract"
)


@contextmanager
def open_source(config: SourceConfig) -> Iterator[Source]:
    if config.base_url:
        if not config.customers_file:
            raise SourceConfigError(NO_CUSTOMERS_FILE)
        try:
            settings = _settings(
                config,
                config.base_url,
                username=config.username,
                password=config.password,
                client_key=config.client_key,
                client_secret=config.client_secret,
            )
        except ValueError as error:
            raise SourceConfigError(str(error)) from None
        customers = load_customers(Path(config.customers_file))
        yield Source(
            settings,
            customers,
            is_sandbox=False,
            active_customers=_active(config),
            identity=api_identity(settings),
        )
        return
    with _embedded_sandbox(config) as source:
        yield source


@contextmanager
def _embedded_sandbox(config: SourceConfig) -> Iterator[Source]:
    from pipelines.sandbox import SandboxCredentials, SandboxProcess

    credentials = SandboxCredentials.random()
    with tempfile.TemporaryDirectory(prefix="badges-sandbox-") as tmp:
        customers_csv = Path(config.customers_file or Path(tmp) / "customers.csv")
        size = config.sandbox
        with SandboxProcess(
            customers=size.customers,
            badges=size.badges,
            seed=size.seed,
            credentials=credentials,
            customers_csv=None if config.customers_file else customers_csv,
        ) as sandbox:
            settings = _settings(
                config,
                sandbox.base_url,
                client_key=credentials.client_key,
                client_secret=credentials.client_secret,
            )
            customers = load_customers(customers_csv)
            yield Source(
                settings,
                customers,
                is_sandbox=True,
                active_customers=_active(config),
                identity=sandbox_identity(size),
            )


def _active(config: SourceConfig) -> list[CustomerRef]:
    """The active-customers file (`CAPILLARY_ACTIVE_CUSTOMERS`), or none."""
    if not config.active_customers_file:
        return []
    return load_customers(Path(config.active_customers_file))


def prepare_source_night(
    lake: Lake,
    snapshot_date: dt.date,
    source: Source,
    options: NightOptions,
    read_only: bool = False,
) -> PreparedNight:
    """`prepare_night` for a source's customers, API and limits."""
    return prepare_night(lake, _population(snapshot_date, source), options, read_only)


def _population(snapshot_date: dt.date, source: Source) -> Population:
    """Tonight's customers of a source, and its API with its stated limits and page size."""
    tuning = source.settings.tuning
    return Population.of(
        snapshot_date,
        source.customers,
        source.active_customers,
        source.settings.base_url,
        tuning.rate_limits,
        tuning.page_size,
    )
