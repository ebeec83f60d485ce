"""Authentication headers: Basic (password sent as its md5 hex) or a renewed OAuth token."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Awaitable, Callable

from pipelines.client.errors import AuthenticationFailed

RENEW_MARGIN_SECONDS = 10.0


def basic_auth_header(username: str, password: str) -> dict[str, str]:
    digest = hashlib.md5(password.encode()).hexdigest()
    token = base64.b64encode(f"{username}:{digest}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


TokenFetcher = Callable[[], Awaitable[tuple[str, float]]]


class OAuthToken:
    """Holds the current token; one renewal serves every request waiting for it.

    A token is renewed before it expires (minus a margin) or when the API says it is
    no longer valid. Requests never go out with a token known to be expired.
    """

    def __init__(self, fetch: TokenFetcher, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._margin = RENEW_MARGIN_SECONDS
        self.renewals = 0

    def _valid(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at - self._margin

    async def headers(self) -> dict[str, str]:
        if not self._valid():
            await self._renew(stale=self._token)
        assert self._token is not None
        return {"X-CAP-API-OAUTH-TOKEN": self._token}

    async def invalidate(self, rejected_headers: dict[str, str]) -> None:
        """The API rejected this token: renew unless another request already did."""
        await self._renew(stale=rejected_headers.get("X-CAP-API-OAUTH-TOKEN"))

    async def _renew(self, stale: str | None) -> None:
        async with self._lock:
            if self._token != stale and self._valid():
                return  # renewed by someone else while we waited
            started = self._clock()
            token, ttl = await self._fetch()
            if not token:
                raise AuthenticationFailed("authentication failed: the token call gave no token")
            self._token, self._expires_at = token, started + float(ttl)
            self._margin = min(RENEW_MARGIN_SECONDS, float(ttl) / 10)
            self.renewals += 1
