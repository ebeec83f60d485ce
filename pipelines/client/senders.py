"""How requests go over the wire: the client's one small interface, two implementations.

`AiohttpSender` (the default) talks aiohttp directly; `HttpxSender` uses httpx with its own
transport or httpx-aiohttp's. The benchmark (benchmarks/transports.py) compares them:
on loopback with 6 KB bodies, httpx's own transport tops out near 350 requests/s and gets
slower with concurrency, httpx over aiohttp spends ~0.5 ms of CPU per request, and aiohttp
alone ~0.2 ms, so aiohttp is the default and the others stay selectable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
import httpx
import yarl

from pipelines.client.errors import CONNECTION, TIMEOUT, RetryableError
from pipelines.client.settings import ClientTuning

Answer = tuple[int, Mapping[str, str], bytes]  # status, headers, body


class Sender(Protocol):
    async def send(
        self, method: str, target: str, headers: dict[str, str], json: Any = None
    ) -> Answer: ...

    async def close(self) -> None: ...


class AiohttpSender:
    def __init__(self, base_url: str, tuning: ClientTuning) -> None:
        self._base = base_url.rstrip("/")
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=tuning.concurrency, ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(total=tuning.timeout_seconds),
            headers={"Accept": "application/json"},
        )

    async def send(
        self, method: str, target: str, headers: dict[str, str], json: Any = None
    ) -> Answer:
        url = yarl.URL(self._base + target, encoded=True)  # already quoted: skip re-quoting
        try:
            async with self._session.request(method, url, headers=headers, json=json) as answer:
                return answer.status, answer.headers, await answer.read()
        except TimeoutError:
            raise RetryableError("timed out", kind=TIMEOUT) from None
        except aiohttp.ClientError as exc:
            raise RetryableError(_describe(exc), kind=CONNECTION) from None

    async def close(self) -> None:
        await self._session.close()


class HttpxSender:
    def __init__(self, base_url: str, tuning: ClientTuning) -> None:
        limits = httpx.Limits(
            max_connections=tuning.concurrency, max_keepalive_connections=tuning.concurrency
        )
        if tuning.transport == "httpx-aiohttp":
            from httpx_aiohttp import AiohttpTransport

            transport: httpx.AsyncBaseTransport = AiohttpTransport(limits=limits)
        else:
            transport = httpx.AsyncHTTPTransport(limits=limits)
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=tuning.timeout_seconds,
            headers={"Accept": "application/json"},
        )

    async def send(
        self, method: str, target: str, headers: dict[str, str], json: Any = None
    ) -> Answer:
        try:
            answer = await self._client.request(method, target, headers=headers, json=json)
        except httpx.TimeoutException:
            raise RetryableError("timed out", kind=TIMEOUT) from None
        except httpx.TransportError as exc:
            raise RetryableError(_describe(exc), kind=CONNECTION) from None
        return answer.status_code, answer.headers, answer.content

    async def close(self) -> None:
        await self._client.aclose()


def _describe(error: Exception) -> str:
    return f"{type(error).__name__} ({error or 'no detail'})"


def open_sender(base_url: str, tuning: ClientTuning) -> Sender:
    """Must be called inside the event loop that will use the sender."""
    if tuning.transport == "aiohttp":
        return AiohttpSender(base_url, tuning)
    return HttpxSender(base_url, tuning)
