"""The API client: one retried, rate-limited, authenticated JSON call at a time, many in flight.

Every endpoint goes through `ApiClient.call`, which
- holds a slot of the bounded in-flight pool and the shared rate budget,
- authenticates (Basic, or an OAuth token renewed once for all waiters),
- retries 429 (honouring Retry-After), 5xx, transport failures and unparseable bodies with
  exponential backoff and jitter,
- and raises `ApiCallFailed` for answers retrying cannot fix (vendor errors such as 1026
  customer not found, 1028 invalid identifier type, 404 badge not found).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from pipelines.client.auth import TOKEN_PATH, OAuthToken, basic_auth_header
from pipelines.client.errors import ApiCallFailed, AuthenticationFailed, RetryableError
from pipelines.client.senders import Sender, open_sender
from pipelines.client.settings import ApiSettings
from pipelines.client.throttle import AdaptiveRate

_backoff = wait_random_exponential(multiplier=0.1, max=8.0)


@dataclass
class ApiResponse:
    path: str  # path and query string, never headers
    status: int
    body: bytes
    data: Any  # the parsed envelope
    attempts: int


@dataclass
class ClientStats:
    sent: int = 0  # HTTP requests sent, retries included
    calls: Counter[str] = field(default_factory=Counter)  # completed calls per endpoint
    retries: int = 0
    throttled: int = 0  # 429 answers
    failed: int = 0  # calls that ended in ApiCallFailed
    bytes_received: int = 0


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
    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.stats = ClientStats()
        self.rate = AdaptiveRate(settings.tuning.requests_per_second)
        self._slots = asyncio.Semaphore(settings.tuning.concurrency)
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

    async def call(
        self,
        endpoint: str,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        method: str = "GET",
        json: Any = None,
    ) -> ApiResponse:
        """One API call, retried until it succeeds or fails for good."""
        target = f"{path}?{urlencode(params)}" if params else path
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.tuning.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(RetryableError),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    if attempts > 1:
                        self.stats.retries += 1
                    response = await self._attempt(method, target, headers, json)
                    response.attempts = attempts
                    self.stats.calls[endpoint] += 1
                    return response
        except RetryableError as exc:
            self.stats.failed += 1
            raise ApiCallFailed(
                target,
                f"gave up after {attempts} attempts: {exc.message}",
                http_status=exc.http_status,
                error_code=exc.error_code,
                attempts=attempts,
                body=exc.body,
            ) from None
        except ApiCallFailed as exc:
            self.stats.failed += 1
            exc.attempts = attempts
            raise
        raise AssertionError("unreachable")

    @staticmethod
    def _wait(retry_state: Any) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, RetryableError) and error.retry_after is not None:
            return error.retry_after
        return _backoff(retry_state)

    async def _auth_headers(self) -> dict[str, str]:
        if self._token is not None:
            return await self._token.headers()
        assert self._basic is not None
        return self._basic

    async def _attempt(
        self, method: str, target: str, headers: dict[str, str] | None, json: Any
    ) -> ApiResponse:
        assert self._sender is not None, "use the client inside 'async with'"
        await self.rate.acquire()
        async with self._slots:
            auth = await self._auth_headers()
            self.stats.sent += 1
            status, answer_headers, body = await self._sender.send(
                method, target, {**auth, **headers} if headers else auth, json
            )
        self.stats.bytes_received += len(body)
        return await self._classify(status, answer_headers, body, target, auth)

    async def _classify(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        target: str,
        auth: dict[str, str],
    ) -> ApiResponse:
        if status == 401:
            if self._token is None:
                raise AuthenticationFailed(f"authentication failed: HTTP 401 for {target}")
            await self._token.invalidate(auth)
            raise RetryableError("401: token rejected, renewed", http_status=401)
        if status == 429:
            self.stats.throttled += 1
            retry_after = _retry_after(headers)
            self.rate.throttled(retry_after)
            raise RetryableError("429 Too Many Requests", http_status=429, retry_after=retry_after)
        if status >= 500:
            raise RetryableError(f"HTTP {status}", http_status=status, body=body)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise RetryableError(
                f"HTTP {status} with a body that is not valid JSON ({len(body)} bytes)",
                http_status=status,
                error_code="bad_body",
                body=body,
            ) from None
        if status >= 400:
            code, message = _vendor_error(data)
            raise ApiCallFailed(
                target, message or f"HTTP {status}", http_status=status, error_code=code, body=body
            )
        return ApiResponse(target, status, body, data, attempts=1)

    async def _fetch_token(self) -> tuple[str, float]:
        assert self._sender is not None
        credentials = {"key": self.settings.client_key, "secret": self.settings.client_secret}
        try:
            status, _, body = await self._sender.send("POST", TOKEN_PATH, {}, credentials)
        except RetryableError as exc:
            raise AuthenticationFailed(
                f"authentication failed: the token call could not reach the API ({exc.message})"
            ) from None
        if status != 200:
            raise AuthenticationFailed(f"authentication failed: the token call answered {status}")
        data = orjson.loads(body).get("data") or {}
        return data.get("accessToken") or "", float(data.get("ttlSeconds") or 300)
