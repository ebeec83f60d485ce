"""Connection settings of the API client; secrets never appear in their repr."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pipelines.client.rates import Rate

TRANSPORTS = ("aiohttp", "httpx-aiohttp", "httpx")


@dataclass(frozen=True)
class ClientTuning:
    concurrency: int = 32  # requests in flight, all APIs together
    rate_limits: dict[str, Rate] = field(default_factory=dict)  # per API; absent = find it
    page_size: int = 50
    timeout_seconds: float = 30.0
    max_attempts: int = 6  # per call, for 5xx, transport failures and broken bodies (not 429)
    max_throttled_seconds: float = 1800.0  # a call refused 429 this long fails for good
    transport: str = "aiohttp"  # "aiohttp", "httpx-aiohttp" or "httpx" (see senders.py)

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.page_size < 1:
            raise ValueError(f"page size must be at least 1, got {self.page_size}")
        if self.max_attempts < 1:
            raise ValueError(f"max attempts must be at least 1, got {self.max_attempts}")
        if self.transport not in TRANSPORTS:
            raise ValueError(
                f"unknown HTTP transport {self.transport!r}: use one of {', '.join(TRANSPORTS)}"
            )


@dataclass(frozen=True)
class ApiSettings:
    base_url: str
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    client_key: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)
    tuning: ClientTuning = field(default_factory=ClientTuning)

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"API base URL must start with http(s)://, got {self.base_url!r}")
        has_basic = bool(self.username and self.password)
        has_oauth = bool(self.client_key and self.client_secret)
        if not (has_basic or has_oauth):
            raise ValueError(
                "no API credentials: set CAPILLARY_USERNAME and CAPILLARY_PASSWORD (Basic) "
                "or CAPILLARY_CLIENT_KEY and CAPILLARY_CLIENT_SECRET (OAuth)"
            )

    @property
    def host(self) -> str:
        """The API's host (with its port, when the URL names one): limits are its own."""
        return api_host(self.base_url)

    @property
    def uses_oauth(self) -> bool:
        return bool(self.client_key and self.client_secret)


def api_host(base_url: str) -> str:
    """`https://eu.api.capillarytech.com/x` -> `eu.api.capillarytech.com`."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host
