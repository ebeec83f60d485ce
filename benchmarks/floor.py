"""The floor: a bare async loop replaying a fixed request set, bodies read and discarded.

No parsing, no retries, no archive: what an HTTP client alone can do against the same
server at the same concurrency. The requests go through the pipeline's own senders
(`pipelines.client.senders`), so the floor and the extraction share their wire code.
Three clients can be compared: plain aiohttp (the pipeline's default), httpx over the
httpx-aiohttp transport, and httpx with its own transport.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.measure import own_cpu_seconds
from pipelines.client.endpoints import identifier_headers
from pipelines.client.senders import open_sender
from pipelines.client.settings import ClientTuning

CLIENTS = ("httpx+aiohttp", "httpx", "aiohttp")
# The pipeline's `ClientTuning.transport` -> the floor client speaking through the same stack.
CLIENT_OF_TRANSPORT = {"aiohttp": "aiohttp", "httpx-aiohttp": "httpx+aiohttp", "httpx": "httpx"}
TRANSPORT_OF_CLIENT = {client: transport for transport, client in CLIENT_OF_TRANSPORT.items()}


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
    return ReplayRequest(path, identifier_headers(identifier_type))


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


async def run_floor(
    client: str,
    base_url: str,
    auth_headers: dict[str, str],
    requests: Iterable[ReplayRequest],
    concurrency: int,
) -> FloorResult:
    """Replays `requests` through `client` (one of CLIENTS) with `concurrency` in flight."""
    transport = TRANSPORT_OF_CLIENT.get(client)
    if transport is None:
        raise ValueError(f"unknown client {client!r}: use one of {', '.join(CLIENTS)}")
    sender = open_sender(base_url, ClientTuning(concurrency=concurrency, transport=transport))

    async def send(request: ReplayRequest) -> tuple[int, int]:
        status, _, body = await sender.send(
            "GET", request.path, {**auth_headers, **request.headers}
        )
        return status, len(body)

    try:
        return await _drain(send, list(requests), concurrency)
    finally:
        await sender.close()
