"""The floor: a bare async loop replaying a fixed request set, bodies read and discarded.

No parsing, no retries, no archive: what an HTTP client alone can do against the same
server at the same concurrency. Three clients can be compared: plain aiohttp (what the
pipeline's client sends through by default), httpx over the httpx-aiohttp transport, and
httpx with its own transport.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
import pyarrow.parquet as pq
import yarl

from benchmarks.measure import own_cpu_seconds

CLIENTS = ("httpx+aiohttp", "httpx", "aiohttp")
# The pipeline's `ClientTuning.transport` -> the floor client speaking through the same stack.
CLIENT_OF_TRANSPORT = {"aiohttp": "aiohttp", "httpx-aiohttp": "httpx+aiohttp", "httpx": "httpx"}
IDENTIFIER_HEADER = "X-CAP-CUSTOMER-IDENTIFIER"
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ReplayRequest:
    path: str  # path and query string, as archived
    headers: dict[str, str]  # the customer identifier header, when there is one


@dataclass
class FloorResult:
    requests: int
    seconds: float
    cpu_seconds: float
    bytes_received: int
    not_ok: int  # answers with a status >= 400

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def replay_request(path: str, identifier_type: str | None) -> ReplayRequest:
    if identifier_type in (None, "id"):
        return ReplayRequest(path, {})
    return ReplayRequest(path, {IDENTIFIER_HEADER: identifier_type})


def requests_from_archive(raw_dir: Path) -> list[ReplayRequest]:
    """Every request the extraction archived (successful or failed), in archive order."""
    replayed: list[ReplayRequest] = []
    for path in sorted(raw_dir.glob("*.parquet")):
        table = pq.read_table(path, columns=["request_path", "identifier_type"])
        for row in table.to_pylist():
            replayed.append(replay_request(row["request_path"], row["identifier_type"]))
    return replayed


Send = Callable[[ReplayRequest], Awaitable[tuple[int, int]]]  # -> (status, body bytes)


async def _drain(send: Send, requests: list[ReplayRequest], concurrency: int) -> FloorResult:
    pending = iter(requests)
    received = [0, 0]  # bytes, statuses >= 400

    async def worker() -> None:
        for request in pending:  # one shared iterator: each request goes to one worker
            status, size = await send(request)
            received[0] += size
            received[1] += status >= 400

    started, cpu_started = time.monotonic(), own_cpu_seconds()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return FloorResult(
        requests=len(requests),
        seconds=time.monotonic() - started,
        cpu_seconds=own_cpu_seconds() - cpu_started,
        bytes_received=received[0],
        not_ok=received[1],
    )


def _httpx_transport(client: str, concurrency: int) -> httpx.AsyncBaseTransport:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    if client == "httpx":
        return httpx.AsyncHTTPTransport(limits=limits)
    from httpx_aiohttp import AiohttpTransport

    return AiohttpTransport(limits=limits)


async def _with_httpx(
    client: str,
    base_url: str,
    auth_headers: dict[str, str],
    requests: list[ReplayRequest],
    concurrency: int,
) -> FloorResult:
    async with httpx.AsyncClient(
        base_url=base_url,
        transport=_httpx_transport(client, concurrency),
        timeout=TIMEOUT_SECONDS,
        headers={"Accept": "application/json", **auth_headers},
    ) as http:

        async def send(request: ReplayRequest) -> tuple[int, int]:
            response = await http.get(request.path, headers=request.headers)
            return response.status_code, len(response.content)

        return await _drain(send, requests, concurrency)


async def _with_aiohttp(
    base_url: str,
    auth_headers: dict[str, str],
    requests: list[ReplayRequest],
    concurrency: int,
) -> FloorResult:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
        headers={"Accept": "application/json", **auth_headers},
    ) as session:

        async def send(request: ReplayRequest) -> tuple[int, int]:
            url = yarl.URL(base_url + request.path, encoded=True)  # keep the archived encoding
            async with session.get(url, headers=request.headers) as response:
                return response.status, len(await response.read())

        return await _drain(send, requests, concurrency)


async def run_floor(
    client: str,
    base_url: str,
    auth_headers: dict[str, str],
    requests: Iterable[ReplayRequest],
    concurrency: int,
) -> FloorResult:
    """Replays `requests` through `client` (one of CLIENTS) with `concurrency` in flight."""
    request_list = list(requests)
    base_url = base_url.rstrip("/")
    if client == "aiohttp":
        return await _with_aiohttp(base_url, auth_headers, request_list, concurrency)
    if client in CLIENTS:
        return await _with_httpx(client, base_url, auth_headers, request_list, concurrency)
    raise ValueError(f"unknown client {client!r}: use one of {', '.join(CLIENTS)}")
