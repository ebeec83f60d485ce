"""The API client: one retried, rate-limited, authenticated JSON call at a time, many in flight.

Every endpoint goes through `ApiClient.call`, which
- waits for its API's throttle (the vendor limits each API on its own, see throttle.py) and
  a slot of the bounded in-flight pool,
- authenticates (Basic, or an OAuth token renewed once for all waiters),
- treats 429 as backpressure: the call waits as its API's throttle says and asks again,
  without spending an attempt,
- retries 5xx, transport failures and unparseable bodies with exponential backoff and
  jitter, up to `max_attempts`,
- raises `ApiCallFailed` for vendor error answers (1026 customer not found, 1028 invalid
  identifier type, 404 badge not found: `answered` is true) and for calls that got no
  answer after every attempt (`answered` is false, `kind` says why),
- and raises `AuthenticationFailed` (401/403) or `ApiUnavailable` (circuit breaker) for
  conditions no later call can get past.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from pipelines.client.auth import OAuthToken, basic_auth_header
from pipelines.client.breaker import CircuitBreaker
from pipelines.client.endpoints import TOKEN_ENDPOINT, Request
from pipelines.client.errors import (
    BAD_BODY,
    HTTP_5XX,
    RATE_LIMITED,
    VENDOR_ANSWER,
    ApiCallFailed,
    ApiUnavailable,
    AuthenticationFailed,
    RetryableError,
)
from pipelines.client.rates import Rate
from pipelines.client.senders import Sender, open_sender
from pipelines.client.settings import ApiSettings
from pipelines.client.throttle import Throttles

_backoff = wait_random_exponential(multiplier=0.1, max=8.0)
PREFLIGHT_TRIES = 3


@dataclass
class ApiResponse:
    path: str  # path and query string, never headers
    status: int
    body: bytes
    data: Any  # the parsed envelope
    attempts: int


@dataclass
class ClientStats:
    sent: int = 0  # HTTP requests sent, retries and 429s included
    calls: Counter[str] = field(default_factory=Counter)  # calls made per endpoint, any outcome
    retries: int = 0
    throttled: int = 0  # 429 answers
    failed: Counter[str] = field(default_factory=Counter)  # calls without an answer, by kind
    vendor_answers: int = 0  # calls answered with the vendor's error envelope
    bytes_received: int = 0

    @property
    def failed_calls(self) -> int:
        return sum(self.failed.values())


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _vendor_error(data: Any) -> tuple[str | None, str | None]:
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        return (None if code is None else str(code)), errors[0].get("message")
    return None, None


class ApiClient:
    def __init__(
        self, settings: ApiSettings, remembered_limits: Mapping[str, Rate] | None = None
    ) -> None:
        """`remembered_limits`: per API, the limit an earlier night measured at this host,
        started at instead of finding it again (a stated `rate_limits` entry wins)."""
        tuning = settings.tuning
        self.settings = settings
        self.stats = ClientStats()
        self.throttles = Throttles(
            tuning.rate_limits, tuning.concurrency, remembered=remembered_limits
        )
        self.breaker = CircuitBreaker(settings.base_url)
        self._slots = asyncio.Semaphore(tuning.concurrency)
        self._sender: Sender | None = None
        self._token = OAuthToken(self._fetch_token) if settings.uses_oauth else None
        self._basic = (
            None
            if settings.uses_oauth
            else basic_auth_header(settings.username or "", settings.password or "")
        )

    async def __aenter__(self) -> ApiClient:
        self._sender = open_sender(self.settings.base_url, self.settings.tuning)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sender is not None:
            await self._sender.close()

    @property
    def token_renewals(self) -> int:
        return self._token.renewals if self._token else 0

    async def preflight(self) -> None:
        """Fails fast, naming the host and the error, when the API cannot be reached at all.

        Any HTTP answer will do (no credentials are sent); only a transport failure (DNS,
        connection refused, TLS) on every try stops the run, before the first customer.
        """
        assert self._sender is not None, "use the client inside 'async with'"
        for attempt in range(1, PREFLIGHT_TRIES + 1):
            try:
                await self._sender.send("GET", "/", {})
                return
            except RetryableError as exc:
                if attempt == PREFLIGHT_TRIES:
                    raise ApiUnavailable(
                        f"API unreachable: cannot connect to {self.settings.base_url}: "
                        f"{exc.message}"
                    ) from None
                await asyncio.sleep(1.0)

    async def call(self, request: Request, json: Any = None) -> ApiResponse:
        """One API call, retried until it is answered or fails for good."""
        endpoint, method = request.endpoint.name, request.endpoint.method
        params, headers = request.params, request.headers
        target = f"{request.path}?{urlencode(params)}" if params else request.path
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.tuning.max_attempts),
            wait=_backoff,
            retry=retry_if_exception_type(RetryableError),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    if attempts > 1:
                        self.stats.retries += 1
                    response = await self._attempt(endpoint, method, target, headers, json)
                    response.attempts = attempts
                    self.stats.calls[endpoint] += 1
                    return response
        except RetryableError as exc:
            self.stats.calls[endpoint] += 1
            self.stats.failed[exc.kind] += 1
            raise ApiCallFailed(
                target,
                f"gave up after {attempts} attempts: {exc.message}",
                kind=exc.kind,
                http_status=exc.http_status,
                error_code=exc.error_code,
                attempts=attempts,
                body=exc.body,
            ) from None
        except ApiCallFailed as exc:
            self.stats.calls[endpoint] += 1
            if exc.answered:
                self.stats.vendor_answers += 1
            else:
                self.stats.failed[exc.kind] += 1
            exc.attempts = attempts
            raise
        raise AssertionError("unreachable")

    async def _auth_headers(self) -> dict[str, str]:
        if self._token is not None:
            return await self._token.headers()
        assert self._basic is not None
        return self._basic

    async def _attempt(
        self, endpoint: str, method: str, target: str, headers: dict[str, str], json: Any
    ) -> ApiResponse:
        """One attempt: asks again after every 429 until answered otherwise."""
        assert self._sender is not None, "use the client inside 'async with'"
        throttle = self.throttles[endpoint]
        throttled_since: float | None = None
        while True:
            self.breaker.check()
            ticket = await throttle.acquire()
            try:
                self.breaker.check()
                async with self._slots:
                    auth = await self._auth_headers()
                    self.stats.sent += 1
                    status, answer_headers, body = await self._sender.send(
                        method, target, {**auth, **headers} if headers else auth, json
                    )
            except RetryableError as exc:
                throttle.released(ticket)
                self.breaker.failed(exc.message)
                raise
            except BaseException:
                throttle.released(ticket)
                raise
            self.stats.bytes_received += len(body)
            if status != 429:
                throttle.answered(ticket)
                break
            self.stats.throttled += 1
            self.breaker.answered()
            throttle.throttled(ticket, _retry_after(answer_headers))
            now = time.monotonic()
            throttled_since = throttled_since or now
            if now - throttled_since > self.settings.tuning.max_throttled_seconds:
                raise ApiCallFailed(
                    target,
                    f"still refused 429 after {now - throttled_since:.0f} s",
                    kind=RATE_LIMITED,
                    http_status=429,
                )
        if status >= 500:
            self.breaker.failed(f"HTTP {status}")
        else:
            self.breaker.answered()
        return await self._classify(status, body, target, auth)

    async def _classify(
        self, status: int, body: bytes, target: str, auth: dict[str, str]
    ) -> ApiResponse:
        if status == 401:
            if self._token is None:
                raise AuthenticationFailed(f"authentication failed: HTTP 401 for {target}")
            await self._token.invalidate(auth)
            raise RetryableError("401: token rejected, renewed", kind=HTTP_5XX, http_status=401)
        if status == 403:
            raise AuthenticationFailed(f"authentication failed: HTTP 403 (forbidden) for {target}")
        if status >= 500:
            raise RetryableError(f"HTTP {status}", kind=HTTP_5XX, http_status=status, body=body)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise RetryableError(
                f"HTTP {status} with a body that is not valid JSON ({len(body)} bytes)",
                kind=BAD_BODY,
                http_status=status,
                error_code=BAD_BODY,
                body=body,
            ) from None
        if status >= 400:
            code, message = _vendor_error(data)
            raise ApiCallFailed(
                target,
                message or f"HTTP {status}",
                kind=VENDOR_ANSWER,
                http_status=status,
                error_code=code,
                body=body,
            )
        return ApiResponse(target, status, body, data, attempts=1)

    async def _fetch_token(self) -> tuple[str, float]:
        assert self._sender is not None
        credentials = {"key": self.settings.client_key, "secret": self.settings.client_secret}
        status, _, body = await self._sender.send(
            TOKEN_ENDPOINT.method, TOKEN_ENDPOINT.path, {}, credentials
        )
        if status >= 500:  # retried as the call's attempt, like any 5xx
            raise RetryableError(f"token call answered HTTP {status}", kind=HTTP_5XX)
        if status != 200:
            raise AuthenticationFailed(f"authentication failed: the token call answered {status}")
        data = orjson.loads(body).get("data") or {}
        return data.get("accessToken") or "", float(data.get("ttlSeconds") or 300)
