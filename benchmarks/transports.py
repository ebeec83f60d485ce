"""HTTP client transports compared on one request set: requests/s and client CPU.

    uv run python benchmarks/transports.py [--customers 200] [--latency-ms 20]

Starts a sandbox child process, builds the request set the pipeline would send for
its customers (four lists, then every listed pair's detail and every badge's meta),
replays it once to warm the sandbox's response cache, then replays it with httpx's
own transport, httpx over httpx-aiohttp and plain aiohttp at each concurrency.
CPU % is this process's user + system time over the replay's wall time (100 = one core).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.floor import CLIENTS, ReplayRequest, run_floor
from benchmarks.target import Target, sandbox_target
from pipelines.client.endpoints import (
    DETAIL_ENDPOINT,
    LIST_ENDPOINT,
    LIST_TYPES,
    META_ENDPOINT,
    Request,
)
from pipelines.client.settings import ClientTuning
from pipelines.extract.customers import load_customers
from pipelines.lake.keys import CustomerRef
from pipelines.sandbox import basic_header

PAGE_SIZE = ClientTuning().page_size


def _list_requests(target: Target) -> list[ReplayRequest]:
    requests = []
    for customer in load_customers(target.customers_csv):
        for list_type in LIST_TYPES:
            request = LIST_ENDPOINT.request(
                customer=customer, list_type=list_type, page=0, limit=PAGE_SIZE
            )
            requests.append(_replayed(request))
    return requests


def _replayed(request: Request) -> ReplayRequest:
    return ReplayRequest(f"{request.path}?{urlencode(request.params)}", request.headers)


async def _fetch_bodies(
    target: Target, auth: dict[str, str], requests: list[ReplayRequest]
) -> list[bytes]:
    async with aiohttp.ClientSession(headers=auth) as session:

        async def fetch(request: ReplayRequest) -> bytes:
            async with session.get(target.base_url + request.path, headers=request.headers) as r:
                return await r.read()

        return await asyncio.gather(*(fetch(r) for r in requests))


def _listed_badges(body: bytes) -> list[str]:
    data = orjson.loads(body).get("data") or {}
    paging = LIST_ENDPOINT.paging
    assert paging is not None
    return [b[paging.id_key] for b in data.get(paging.items_key) or [] if paging.id_key in b]


def build_request_set(target: Target, auth: dict[str, str]) -> list[ReplayRequest]:
    """The lists' first pages, then each listed pair's detail and each badge's meta."""
    lists = _list_requests(target)
    bodies = asyncio.run(_fetch_bodies(target, auth, lists))
    customers = [c for c in load_customers(target.customers_csv) for _ in LIST_TYPES]
    pairs: dict[tuple[CustomerRef, str], ReplayRequest] = {}
    for customer, body in zip(customers, bodies, strict=True):
        for badge in _listed_badges(body):
            detail = DETAIL_ENDPOINT.request(customer=customer, badge=badge)
            pairs.setdefault((customer, badge), _replayed(detail))
    badges = sorted({badge for _, badge in pairs})
    metas = [_replayed(META_ENDPOINT.request(badge=b)) for b in badges]
    return [*lists, *pairs.values(), *metas]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--badges", type=int, default=80)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 128])
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="badges-transports-") as tmp,
        sandbox_target(args.customers, args.badges, args.latency_ms, Path(tmp)) as target,
    ):
        auth = {"Authorization": basic_header(target.username, target.password)}
        requests = build_request_set(target, auth)
        asyncio.run(run_floor("aiohttp", target.base_url, auth, requests, 32))  # warm-up
        print(
            f"{len(requests):,} requests ({args.customers:,} customers), "
            f"latency {args.latency_ms:g} ms"
        )
        print(f"{'client':<16}{'concurrency':>12}{'req/s':>10}{'CPU %':>8}{'>=400':>7}")
        for concurrency in args.concurrency:
            for client in CLIENTS:
                result = asyncio.run(
                    run_floor(client, target.base_url, auth, requests, concurrency)
                )
                cpu = 100 * result.cpu_seconds / result.seconds
                print(
                    f"{client:<16}{concurrency:>12}{result.requests_per_second:>10,.0f}"
                    f"{cpu:>8.0f}{result.not_ok:>7}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
