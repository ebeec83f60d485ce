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
from urllib.parse import quote

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.floor import CLIENTS, ReplayRequest, replay_request, run_floor
from benchmarks.target import Target, sandbox_target
from pipelines.client.endpoints import DETAIL_PATH, LIST_PATH, LIST_TYPES, META_PATH
from pipelines.client.settings import ClientTuning
from pipelines.extract import load_customers
from pipelines.sandbox import basic_header

PAGE_SIZE = ClientTuning().page_size
STATISTICS = "?includeStatistics=true"


def _list_requests(target: Target) -> list[ReplayRequest]:
    requests = []
    for customer in load_customers(target.customers_csv):
        path = LIST_PATH.format(customer=quote(customer.customer_id, safe="@+"))
        for list_type in LIST_TYPES:
            query = f"badgeType={list_type}&page=0&limit={PAGE_SIZE}&includeExpired=true"
            requests.append(replay_request(f"{path}?{query}", customer.identifier_type))
    return requests


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
    return [b["badgeMetaId"] for b in data.get("badges") or [] if "badgeMetaId" in b]


def build_request_set(target: Target, auth: dict[str, str]) -> list[ReplayRequest]:
    """The lists' first pages, then each listed pair's detail and each badge's meta."""
    lists = _list_requests(target)
    bodies = asyncio.run(_fetch_bodies(target, auth, lists))
    pairs: dict[tuple[str, str], ReplayRequest] = {}
    for request, body in zip(lists, bodies, strict=True):
        customer = request.path.split("?")[0].rsplit("/", 1)[1]
        for badge in _listed_badges(body):
            detail = DETAIL_PATH.format(customer=customer, badge=badge) + STATISTICS
            pairs.setdefault((customer, badge), ReplayRequest(detail, request.headers))
    badges = sorted({badge for _, badge in pairs})
    metas = [ReplayRequest(META_PATH.format(badge=b) + STATISTICS, {}) for b in badges]
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
