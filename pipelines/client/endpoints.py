"""The Badges API, declared once: each call's name, method, path, query and paging.

The client paces and counts calls by `Endpoint.name` (the vendor limits each API on its
own, and `CAPILLARY_RATE_LIMIT` names them the same way); the extraction builds its
requests from the paths and queries here, the planner counts calls per name, the raw
archive files every response under its endpoint's name and the sandbox routes requests
with `Endpoint.match`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import quote

from pipelines.lake.keys import CustomerRef

LIST_TYPES = ("AVAILABLE_TO_ISSUE", "AVAILABLE", "EARNED", "EXPIRED")
LOOKUP_TYPES = ("email", "mobile", "externalId", "cardNumber")  # sent in IDENTIFIER_HEADER
IDENTIFIER_TYPES = ("id", *LOOKUP_TYPES)
IDENTIFIER_HEADER = "X-CAP-CUSTOMER-IDENTIFIER"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# How each path part is quoted: customer values keep @ and + (emails, mobiles) readable.
_SAFE = {"customer": "@+", "badge": ""}


@dataclass(frozen=True)
class PageNumberPaging:
    """0-based `page` and `limit` parameters; the items are `data.<items_key>`, each
    identified by `<id_key>`, and `data.pagination` says {page, size, total, totalPages}."""

    items_key: str
    id_key: str
    page_param: str = "page"
    limit_param: str = "limit"


@dataclass(frozen=True)
class Request:
    endpoint: Endpoint
    path: str
    params: dict[str, object]
    headers: dict[str, str]


@dataclass(frozen=True)
class Endpoint:
    name: str  # the name rate limits, call counts and the raw archive use
    method: str
    path: str  # a template: {customer} and {badge} are filled in, quoted
    query: Mapping[str, str] = field(default_factory=dict)  # sent with every call
    list_param: str | None = None  # the query parameter naming the list (badgeType)
    paging: PageNumberPaging | None = None
    by_customer: bool = False  # customers not looked up by id send IDENTIFIER_HEADER

    def request(
        self,
        *,
        customer: CustomerRef | None = None,
        badge: str | None = None,
        list_type: str | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> Request:
        """One call of this endpoint: its path with the parts quoted, its query (the list,
        the page, then the fixed parameters) and the customer lookup header."""
        parts = {"customer": customer.customer_id if customer else None, "badge": badge}
        path = _PLACEHOLDER.sub(
            lambda m: quote(parts[m.group(1)] or "", safe=_SAFE[m.group(1)]), self.path
        )
        params: dict[str, object] = {}
        if self.list_param is not None and list_type is not None:
            params[self.list_param] = list_type
        if self.paging is not None and page is not None:
            params[self.paging.page_param] = page
            params[self.paging.limit_param] = limit
        lookup = customer.identifier_type if customer and self.by_customer else None
        headers = identifier_headers(lookup)
        return Request(self, path, params | dict(self.query), headers)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path's parts when a request is a call of this endpoint, else None."""
        if method != self.method:
            return None
        found = _pattern(self.path).fullmatch(path)
        return found.groupdict() if found else None


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """A template as a regex with one group per part. Each part is at least one character
    and ends where the rest of the template first matches (`{customer}/badge/{badge}`)."""
    regex, position = "", 0
    for found in _PLACEHOLDER.finditer(template):
        regex += re.escape(template[position : found.start()]) + f"(?P<{found.group(1)}>.+?)"
        position = found.end()
    return re.compile(regex + re.escape(template[position:]))


def identifier_headers(identifier_type: str | None) -> dict[str, str]:
    """The lookup header for a customer not identified by id (none for an id)."""
    if identifier_type in (None, "id"):
        return {}
    return {IDENTIFIER_HEADER: identifier_type}


META_ENDPOINT = Endpoint(
    "badge_meta",
    "GET",
    "/api_gateway/v1/badges/badgeMeta/{badge}",
    query={"includeStatistics": "true"},
)
LIST_ENDPOINT = Endpoint(
    "customer_badges",
    "GET",
    "/api_gateway/v1/badges/customer/{customer}",
    query={"includeExpired": "true"},
    list_param="badgeType",
    paging=PageNumberPaging(items_key="badges", id_key="badgeMetaId"),
    by_customer=True,
)
DETAIL_ENDPOINT = Endpoint(
    "customer_badge_detail",
    "GET",
    "/api_gateway/v1/badges/management/{customer}/badge/{badge}",
    query={"includeStatistics": "true"},
    by_customer=True,
)
UPDATE_ENDPOINT = Endpoint("update_badge_meta", "PUT", "/api_gateway/v1/badges/badgeMeta")
TOKEN_ENDPOINT = Endpoint("oauth_token", "POST", "/v3/oauth/token/generate")

# The keys that name and describe a badge in every answer carrying it (badge meta, list
# entries, details): the same in each customer's list entry and detail of the badge, and
# nothing of a customer depends on them. A change of them alone is the badge's, not its
# pairs'. (The numeric id, which the vendor gives a badge at its first update, is in the
# meta only.)
BADGE_DESCRIPTION_KEYS = frozenset(
    {
        "badgeNumericId",
        "name",
        "description",
        "images",
        "tags",
        "benefits",
        "badgeGroupId",
        "badgeGroupName",
        "badgeRank",
        "customFields",
    }
)
# When and by whom the badge was last changed: moves with every change, described or not.
BADGE_UPDATE_KEYS = frozenset({"lastUpdatedOn", "lastUpdatedOnISO", "lastUpdatedBy"})
# The badge's running totals over every customer, which move with any customer's activity.
BADGE_STATISTICS_KEYS = frozenset({"issuedCount", "earnedCount"})

# The calls a night makes, each API limited on its own, in the order plans list them.
DATA_ENDPOINTS = (META_ENDPOINT, LIST_ENDPOINT, DETAIL_ENDPOINT)
API_NAMES = tuple(endpoint.name for endpoint in DATA_ENDPOINTS)
