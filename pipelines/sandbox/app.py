"""The sandbox as a plain ASGI app: routing, auth, faults, and sending (or breaking) responses."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from pipelines.client.endpoints import (
    DETAIL_ENDPOINT,
    LIST_ENDPOINT,
    META_ENDPOINT,
    TOKEN_ENDPOINT,
    UPDATE_ENDPOINT,
    Endpoint,
)
from pipelines.sandbox.credentials import Authenticator, SandboxCredentials
from pipelines.sandbox.error_answers import SandboxApiError
from pipelines.sandbox.faults import (
    Decision,
    FaultInjector,
    Faults,
    SandboxStats,
    with_added_key,
    with_renamed_earns,
)
from pipelines.sandbox.handlers import Endpoints, Response
from pipelines.sandbox.org import Org
from pipelines.sandbox.render import error_body
from pipelines.sandbox.vendor_world import VendorWorld

JSON_HEADERS = [(b"content-type", b"application/json")]
FAIL_MESSAGES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
ROUTED = (META_ENDPOINT, LIST_ENDPOINT, DETAIL_ENDPOINT, UPDATE_ENDPOINT)


class SandboxApp:
    """ASGI callable; `stats` and `org` are live views for tests and benchmarks.

    It answers from a generated `org`, or from `world` (the vendor's examples) when given.
    """

    def __init__(
        self,
        org: Org | None,
        credentials: SandboxCredentials,
        faults: Faults,
        stats: SandboxStats,
        world: VendorWorld | None = None,
    ) -> None:
        self.org = org
        self.stats = stats
        self.auth = Authenticator(credentials)
        self.credentials = credentials
        self.injector = FaultInjector(faults, stats)
        self.endpoints: Endpoints | VendorWorld
        if world is not None:
            self.endpoints = world
        elif org is not None:
            self.endpoints = Endpoints(org, self.injector)
        else:
            raise ValueError("the sandbox answers from a generated org or the vendor's world")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        headers = dict(scope["headers"])
        if path == TOKEN_ENDPOINT.path:
            await self._token(method, receive, send)
            return
        route = _route_of(method, path)
        if route is None:
            await _send(send, 404, error_body(404, "Not found"))
            return
        endpoint, parts = route
        self._count(endpoint.name)
        decision = self.injector.decide()
        if decision.delay_seconds:
            await asyncio.sleep(decision.delay_seconds)
        throttled = self.injector.throttle(endpoint.name)
        if throttled is not None:
            header = throttled.retry_after
            extra = [] if header is None else [(b"retry-after", str(header).encode())]
            await _send(send, 429, error_body(429, "Too many requests"), extra)
            return
        if decision.fail_status:
            self.stats.failures += 1
            status = decision.fail_status
            await _send(send, status, error_body(status, FAIL_MESSAGES[status]))
            return
        reason = self.auth.failure(
            headers.get(b"authorization"), headers.get(b"x-cap-api-oauth-token")
        )
        if reason is not None:
            self.stats.auth_failures += 1
            await _send(send, 401, error_body(401, reason))
            return
        raw_body = await _read_body(receive) if method in ("PUT", "POST") else b""
        try:
            status, body = self._answer(endpoint, parts, headers, scope["query_string"], raw_body)
        except SandboxApiError as error:
            status, body = error.status, error_body(error.code, error.message)
        added = self.injector.faults.added_key()
        if added is not None and status == 200:
            body = with_added_key(endpoint.name, body, *added)
        if self.injector.faults.renamed_earns and status == 200:
            body = with_renamed_earns(endpoint.name, body)
        await self._send_with_faults(send, status, body, decision)

    def _answer(
        self, endpoint: Endpoint, parts: dict[str, str], headers: dict, query: bytes, body: bytes
    ) -> Response:
        params = dict(parse_qsl(query.decode("latin-1")))
        identifier = headers.get(b"x-cap-customer-identifier")
        identifier_type = identifier.decode("latin-1").strip() if identifier is not None else None
        if endpoint is UPDATE_ENDPOINT:
            return self.endpoints.update(body)
        if endpoint is META_ENDPOINT:
            return self.endpoints.meta(parts["badge"], params)
        if endpoint is LIST_ENDPOINT:
            return self.endpoints.customer_list(parts["customer"], identifier_type, params)
        return self.endpoints.detail(parts["customer"], parts["badge"], identifier_type, params)

    def _count(self, endpoint: str) -> None:
        self.stats.requests[endpoint] += 1
        revoke_after = self.injector.faults.revoke_after
        if revoke_after and self.stats.total_requests > revoke_after:
            self.auth.revoke()

    async def _token(self, method: str, receive: Receive, send: Send) -> None:
        self._count(TOKEN_ENDPOINT.name)
        decision = self.injector.decide(oauth=True)
        if decision.delay_seconds:
            await asyncio.sleep(decision.delay_seconds)
        if method != "POST":
            await _send(send, 405, error_body(405, "Method not allowed"))
            return
        try:
            request = orjson.loads(await _read_body(receive))
        except orjson.JSONDecodeError:
            request = None
        if not isinstance(request, dict):
            await _send(send, 400, error_body(400, "Invalid JSON body"))
            return
        token = self.auth.issue_token(request.get("key"), request.get("secret"))
        if token is None:
            self.stats.auth_failures += 1
            await _send(send, 401, error_body(401, "authentication failed: invalid client"))
            return
        ttl = self.credentials.token_ttl_seconds
        data = {"accessToken": token, "ttlSeconds": int(ttl) if ttl == int(ttl) else ttl}
        await _send(send, 200, orjson.dumps({"data": data, "errors": [], "warnings": []}))

    async def _send_with_faults(
        self, send: Send, status: int, body: bytes, decision: Decision
    ) -> None:
        if decision.reset:
            self.stats.resets += 1
            await _send_start(send, status, len(body))
            # Returning with the body incomplete makes the server drop the connection.
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            return
        if decision.truncate:
            self.stats.truncations += 1
            body = body[: max(1, len(body) // 2)]
        await _send(send, status, body)


def _route_of(method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
    for endpoint in ROUTED:
        parts = endpoint.match(method, path)
        if parts is not None:
            return endpoint, parts
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send_start(send: Send, status: int, length: int, extra: list | None = None) -> None:
    headers = [*JSON_HEADERS, (b"content-length", str(length).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _send(send: Send, status: int, body: bytes, extra: list | None = None) -> None:
    await _send_start(send, status, len(body), extra)
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message: dict[str, Any] = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(
    org: Org,
    credentials: SandboxCredentials,
    faults: Faults = Faults(),  # noqa: B008 (frozen, shared safely)
    stats: SandboxStats | None = None,
) -> ASGIApp:
    """The sandbox ASGI app over `org`; its `stats` counts requests and injected faults."""
    return SandboxApp(org, credentials, faults, stats or SandboxStats())
