"""Shared sandbox fixtures: one read-only org and server per module, real HTTP via httpx."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from pipelines.sandbox import Org, SandboxCredentials, SandboxServer, basic_header, generate_org

AS_OF = dt.date(2025, 6, 1)
CREDENTIALS = SandboxCredentials()
BASIC = {"Authorization": basic_header(CREDENTIALS.username, CREDENTIALS.password)}
META = "/api_gateway/v1/badges/badgeMeta"
CUSTOMER = "/api_gateway/v1/badges/customer"
MANAGEMENT = "/api_gateway/v1/badges/management"


def small_org(seed: int = 7) -> Org:
    return generate_org(customers=60, badges=80, seed=seed, as_of=AS_OF)


@pytest.fixture(scope="module")
def org() -> Org:
    return small_org()


@pytest.fixture(scope="module")
def server(org: Org) -> Iterator[SandboxServer]:
    with SandboxServer(org, CREDENTIALS) as running:
        yield running


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers=BASIC) as http:
        yield http


def fetch_list(
    http: httpx.Client, customer_id: str, list_type: str, limit: int = 50, **headers: str
) -> list[dict]:
    """Every entry of a customer list, paging by page number."""
    entries: list[dict] = []
    page = 0
    while True:
        params = {"badgeType": list_type, "page": page, "limit": limit, "includeExpired": "true"}
        response = http.get(f"{CUSTOMER}/{customer_id}", params=params, headers=headers)
        response.raise_for_status()
        data = response.json()["data"]
        entries += data["badges"]
        pagination = data.get("pagination")
        if pagination is None or page + 1 >= pagination["totalPages"]:
            return entries
        page += 1
