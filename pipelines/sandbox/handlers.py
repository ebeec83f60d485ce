"""The five endpoints as functions of (request parts) -> (status, body bytes)."""

from __future__ import annotations

import zlib

import orjson

from pipelines.client.endpoints import LIST_TYPES, LOOKUP_TYPES
from pipelines.sandbox.error_answers import SandboxApiError
from pipelines.sandbox.faults import FaultInjector
from pipelines.sandbox.model import Badge, Customer
from pipelines.sandbox.org import Org
from pipelines.sandbox.render import BodyCache, detail_body, list_body, list_entry, meta_body
from pipelines.sandbox.update import apply_update

DEFAULT_LIMIT = 10
Response = tuple[int, bytes]


def _flag(params: dict[str, str], name: str) -> bool:
    return params.get(name, "false").lower() == "true"


def int_param(params: dict[str, str], name: str, default: int, minimum: int) -> int:
    try:
        value = int(params.get(name, default))
    except ValueError as error:
        raise SandboxApiError(400, 400, f"Invalid value for {name}") from error
    if value < minimum:
        raise SandboxApiError(400, 400, f"Invalid value for {name}")
    return value


def list_type_of(params: dict[str, str]) -> str:
    """The list a customer-list call asks for (`badgeType`, default AVAILABLE_TO_ISSUE)."""
    list_type = params.get("badgeType", "AVAILABLE_TO_ISSUE")
    if list_type not in LIST_TYPES:
        raise SandboxApiError(400, 400, "Invalid enum value")
    return list_type


def has_pagination(customer_id: str) -> bool:
    """Some customers' single-page lists come without pagination and errors/warnings keys."""
    return zlib.crc32(customer_id.encode()) % 4 != 0


def rank_order(org: Org, badge: Badge) -> tuple:
    """The spec's sortOn=RANK: groups by rank first, ranked badges, then expiry descending."""
    group = org.groups.get(badge.group_id or "")
    return (
        group is None,
        group.rank if group else 0,
        badge.rank is None,
        badge.rank or 0,
        -badge.expires_us,
        badge.badge_id,
    )


class Endpoints:
    def __init__(self, org: Org, injector: FaultInjector) -> None:
        self.org = org
        self.injector = injector
        self.cache = BodyCache(org)

    def resolve_customer(self, value: str, identifier_type: str | None) -> Customer:
        if identifier_type is not None and identifier_type not in LOOKUP_TYPES:
            raise SandboxApiError(400, 1028, "Invalid Customer Identifier type")
        customer = self.org.find_customer(value, identifier_type or "id")
        if customer is None:
            raise SandboxApiError(404, 1026, "Customer with the specified ID is not found.")
        return customer

    def badge(self, badge_id: str) -> Badge:
        badge = self.org.badges.get(badge_id)
        if badge is None:
            raise SandboxApiError(404, 404, "Passed badge is not found")
        return badge

    def meta(self, badge_id: str, params: dict[str, str]) -> Response:
        badge = self.badge(badge_id)
        stats = _flag(params, "includeStatistics")
        body = self.cache.get(("meta", badge_id, stats), lambda: meta_body(self.org, badge, stats))
        return 200, body

    def detail(
        self, customer_value: str, badge_id: str, identifier_type: str | None, params: dict
    ) -> Response:
        customer = self.resolve_customer(customer_value, identifier_type)
        badge = self.badge(badge_id)
        stats = _flag(params, "includeStatistics")
        key = ("detail", customer.customer_id, badge_id, stats)
        return 200, self.cache.get(key, lambda: detail_body(self.org, customer, badge, stats))

    def customer_list(
        self, customer_value: str, identifier_type: str | None, params: dict[str, str]
    ) -> Response:
        customer = self.resolve_customer(customer_value, identifier_type)
        list_type = list_type_of(params)
        page = int_param(params, "page", 0, 0)
        limit = int_param(params, "limit", DEFAULT_LIMIT, 1)
        selection = (
            customer.customer_id,
            list_type,
            _flag(params, "includeExpired"),
            params.get("sortOn", ""),
            params.get("groupId"),
        )
        entries = self.cache.get(("entries", *selection), lambda: self._entries(*selection))
        total = len(entries)
        if self.injector.faults.drift and total > limit:
            shift = self.injector.drift_shift(customer.customer_id, list_type) % total
            entries = entries[-shift:] + entries[:-shift] if shift else entries
        else:
            key = ("page", *selection, page, limit)
            return 200, self.cache.get(key, lambda: self._page(customer, entries, page, limit))
        return 200, self._page(customer, entries, page, limit)

    def _entries(
        self, customer_id: str, list_type: str, include_expired: bool, sort_on: str, group_id
    ) -> list[bytes]:
        badges = self.org.list_entries(customer_id, list_type, include_expired)
        if group_id:
            badges = [b for b in badges if b.group_id == group_id]
        if sort_on == "RANK":
            badges = sorted(badges, key=lambda b: rank_order(self.org, b))
        return [list_entry(self.org, customer_id, b) for b in badges]

    def _page(self, customer: Customer, entries: list[bytes], page: int, limit: int) -> bytes:
        total = len(entries)
        paginated = not (page == 0 and total <= limit and not has_pagination(customer.customer_id))
        chunk = entries[page * limit : (page + 1) * limit]
        return list_body(chunk, page, limit, total, paginated)

    def update(self, raw_body: bytes) -> Response:
        try:
            payload = orjson.loads(raw_body)
        except orjson.JSONDecodeError as error:
            raise SandboxApiError(400, 400, "Invalid JSON body") from error
        body = meta_body(self.org, apply_update(self.org, payload))
        return 200, body.replace(b'"errors":null,"warnings":null', b'"errors":[],"warnings":[]')
