"""The vendor's world: an org made of exactly the documented examples of the Badges API.

The generated org (`generate.py`) is our model of the vendor and shares our blind spots;
this world is made of the vendor's own examples (`vendor_examples/`, extracted from its
API pages), so a night over it meets every quirk they show, byte for byte.

What it serves, declared below as data:
- A documented answer is served as its text: detail examples for (customer, badge),
  meta examples for a badge, list examples for (customer, list type).
- A list the docs show only entry by entry is a page of those entries, each the
  documented text of its entry (from a list example, else a meta or detail example of
  the badge mapped to the list shape by `_LIST_ENTRY_FROM_META`/`_FROM_DETAIL`), paged
  by the request's `page` and `limit` like the vendor's.
- What the docs show no answer for gets the vendor's documented error: 1026 for a
  customer it does not know, 1028 for a lookup type this org does not take, 404 for a
  badge whose meta or detail no example shows.
- `PUT badgeMeta` of a world badge merges the body into its meta (the vendor replaces
  the keys it is sent), moves `lastUpdatedOn` and answers the new meta, which later GETs
  serve.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import orjson

from pipelines.client.endpoints import LOOKUP_TYPES
from pipelines.sandbox.error_answers import SandboxApiError
from pipelines.sandbox.handlers import DEFAULT_LIMIT, int_param, list_type_of
from pipelines.sandbox.render import list_body

EXAMPLES = Path(__file__).resolve().parent / "vendor_examples"
Response = tuple[int, bytes]


@dataclass(frozen=True)
class WorldCustomer:
    """A customer of the world: how the customers file names it, and what the API says."""

    value: str
    identifier_type: str
    # list type -> a list example served whole, or the badge ids its page lists
    lists: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)  # badge id -> detail example


BADGE123 = "662749408fe258516a88fe89"
OG_BADGE2 = "662724bb8fe258516a88fde2"
TRANSACTION_SUCCESS = "65f7f4237d12f807399e1d6e"
ISSUEDS_TEST6 = "693696bdcebb9648d89735b3"
ISSUE_EARN283 = "67037d51d33ceb2ad0a69b1b"
COPY_OF_TEST2 = "66cfffb195551c6e7d962a8a"
TEST_BADGE_0212 = "692e7e739b3ca00e4bbf7c06"
BADGETEST_JAN16 = "696df21c0772ad476ecf69d4"
THIS_IS_A_BADGE = "661e11563753c37878a8b2c7"
EMAIL_CUSTOMER = "tom.sawyer@example.com"

CUSTOMERS = (
    # The list examples' customer: list example 1 is page 0 of 4 of a 38-badge list, of
    # which the docs show the first 10, so its list is those 10.
    WorldCustomer(
        "62407752",
        "id",
        lists={
            "AVAILABLE_TO_ISSUE": ("get-customer-badges-1",),
            "EARNED": "get-customer-badges-2",
            "AVAILABLE": "get-customer-badges-4",
        },
        details={BADGE123: "get-customer-badge-detail-3"},
    ),
    # The detail example's customer, looked up by mobile number (the path of its curl).
    WorldCustomer(
        "919999999994",
        "mobile",
        lists={"AVAILABLE": (ISSUEDS_TEST6, ISSUE_EARN283)},
        details={
            ISSUEDS_TEST6: "get-customer-badge-detail-1",
            ISSUE_EARN283: "get-customer-badge-detail-7",
        },
    ),
    WorldCustomer(
        "381921157",
        "id",
        lists={"EARNED": (OG_BADGE2, BADGE123), "AVAILABLE": (COPY_OF_TEST2,)},
        details={
            OG_BADGE2: "get-customer-badge-detail-2",
            BADGE123: "get-customer-badge-detail-4",
            COPY_OF_TEST2: "get-customer-badge-detail-6",
        },
    ),
    # Looked up by email; its EARNED list is the example without `pagination`.
    WorldCustomer(
        EMAIL_CUSTOMER,
        "email",
        lists={
            "EARNED": "get-customer-badges-3",
            "AVAILABLE_TO_ISSUE": (
                TRANSACTION_SUCCESS,
                OG_BADGE2,
                TEST_BADGE_0212,
                BADGETEST_JAN16,
                THIS_IS_A_BADGE,
            ),
        },
        details={OG_BADGE2: "get-customer-badge-detail-5"},
    ),
)
# In the customers file, unknown to the API: 1026; looked up by a type this org does not
# take (card numbers): 1028.
UNKNOWN_CUSTOMERS = (("62090013", "id"),)
REFUSED_LOOKUPS = {"cardNumber"}
CARD_CUSTOMER = ("4111111111111111", "cardNumber")

# badge id -> its meta example (with statistics, without)
METAS = {
    TEST_BADGE_0212: ("get-badge-meta-by-id-1", "get-badge-meta-by-id-1"),
    BADGE123: ("get-badge-meta-by-id-2", "get-badge-meta-by-id-2"),
    OG_BADGE2: ("get-badge-meta-by-id-3", "get-badge-meta-by-id-4"),
    # The PUT examples' answers are the state of their badges.
    BADGETEST_JAN16: ("update-badge-meta-2", "update-badge-meta-2"),
    THIS_IS_A_BADGE: ("update-badge-meta-4", "update-badge-meta-4"),
}

# A list entry of a badge the docs show only as meta or detail: list key <- source key.
_LIST_ENTRY_FROM_META = {
    "badgeMetaId": "id",
    "orgId": "orgId",
    "name": "name",
    "description": "description",
    "startOn": "startOn",
    "expiresOn": "expiresOn",
    "images": "images",
    "badgeGroupId": "badgeGroupId",
    "badgeRank": "badgeRank",
    "ownership": "ownership",
    "earnType": "earnType",
    "customerConstraints": "customerConstraints",
    "badgeConstraints": "badgeConstraints",
    "customFields": "customFields",
    "active": "active",
}
_LIST_ENTRY_FROM_DETAIL = {
    "badgeMetaId": "id",
    "name": "name",
    "description": "description",
    "startOn": "startsOn",
    "expiresOn": "expiresOn",
    "images": "images",
    "badgeGroupId": "badgeGroupId",
    "badgeGroupName": "badgeGroupName",
    "badgeRank": "badgeRank",
    "earnType": "badgeType",
    "customFields": "customFields",
}


@cache
def example_text(name: str) -> bytes:
    """A documented example exactly as the vendor's page shows it."""
    return (EXAMPLES / f"{name}.json").read_bytes()


class VendorWorld:
    """The world's answers, as `(status, body)`; the sandbox app routes to them."""

    def __init__(self, served: Mapping[str, bytes] | None = None) -> None:
        """`served`: bodies answered in place of the example of that name (a mutated
        example, say), where the world answers an example whole."""
        self.served = dict(served or {})
        self.customers = {(c.value, c.identifier_type): c for c in CUSTOMERS}
        self.metas: dict[str, bytes] = {}  # badge id -> meta body a PUT left

    # -- the customers file --------------------------------------------------------------

    def write_customers_csv(self, path: Path) -> None:
        rows = [(c.value, c.identifier_type) for c in CUSTOMERS]
        rows += [*UNKNOWN_CUSTOMERS, CARD_CUSTOMER]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["customer_id", "identifier_type"])
            writer.writerows(rows)

    def resolve_customer(self, value: str, identifier_type: str | None) -> WorldCustomer:
        lookup = identifier_type or "id"
        if lookup != "id" and (lookup not in LOOKUP_TYPES or lookup in REFUSED_LOOKUPS):
            raise SandboxApiError(400, 1028, "Invalid Customer Identifier type")
        customer = self.customers.get((value, lookup))
        if customer is None:
            raise SandboxApiError(404, 1026, "Customer with the specified ID is not found.")
        return customer

    # -- the four calls --------------------------------------------------------------------

    def meta(self, badge_id: str, params: dict[str, str]) -> Response:
        if badge_id in self.metas:
            return 200, self.metas[badge_id]
        names = METAS.get(badge_id)
        if names is None:
            raise SandboxApiError(404, 404, "Passed badge is not found")
        with_statistics = params.get("includeStatistics", "false").lower() == "true"
        return 200, self._text(names[0] if with_statistics else names[1])

    def detail(
        self, customer_value: str, badge_id: str, identifier_type: str | None, params: dict
    ) -> Response:
        customer = self.resolve_customer(customer_value, identifier_type)
        name = customer.details.get(badge_id)
        if name is None:
            raise SandboxApiError(404, 404, "Passed badge is not found")
        return 200, self._text(name)

    def customer_list(
        self, customer_value: str, identifier_type: str | None, params: dict[str, str]
    ) -> Response:
        customer = self.resolve_customer(customer_value, identifier_type)
        served = customer.lists.get(list_type_of(params), ())
        if isinstance(served, str):
            return 200, self._text(served)
        page = int_param(params, "page", 0, 0)
        limit = int_param(params, "limit", DEFAULT_LIMIT, 1)
        entries = [entry for source in served for entry in list_entries(source)]
        chunk = entries[page * limit : (page + 1) * limit]
        return 200, list_body(chunk, page, limit, len(entries), paginated=True)

    def update(self, raw_body: bytes) -> Response:
        try:
            body = orjson.loads(raw_body)
        except orjson.JSONDecodeError as error:
            raise SandboxApiError(400, 400, "Invalid JSON body") from error
        badge_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(badge_id, str) or (badge_id not in METAS and badge_id not in self.metas):
            raise SandboxApiError(404, 404, "Passed badge is not found")
        current = orjson.loads(self.meta(badge_id, {"includeStatistics": "true"})[1])["data"]
        updated = current | body
        updated["lastUpdatedOn"] = max(time.time(), float(current["lastUpdatedOn"]) + 1)
        updated.pop("lastUpdatedOnISO", None)
        self.metas[badge_id] = orjson.dumps({"data": updated, "errors": None, "warnings": None})
        return 200, orjson.dumps({"data": updated, "errors": [], "warnings": []})

    def _text(self, name: str) -> bytes:
        return self.served.get(name) or example_text(name)


@cache
def list_entries(source: str) -> tuple[bytes, ...]:
    """The documented entries a page lists for `source`, each as the vendor's text: every
    entry of a list example, or the one entry of a badge (its documented list entry, else
    mapped from its meta or detail example)."""
    if source.startswith("get-customer-badges-"):
        return tuple(_raw_items(_data_members(source)["badges"]))
    return (badge_entry(source),)


def badge_entry(badge_id: str) -> bytes:
    quoted = orjson.dumps(badge_id)
    for name in (f"get-customer-badges-{n}" for n in range(1, 5)):
        for entry in _raw_items(_data_members(name)["badges"]):
            if _raw_members(entry).get("badgeMetaId") == quoted:
                return entry
    if badge_id in METAS:
        meta = _data_members(METAS[badge_id][0])
        return _object(_LIST_ENTRY_FROM_META, meta)[:-1] + b',"earnedCount":null}'
    for customer in CUSTOMERS:
        if badge_id in customer.details:
            return _object(_LIST_ENTRY_FROM_DETAIL, _data_members(customer.details[badge_id]))
    raise KeyError(f"no example shows badge {badge_id}")


def _object(mapping: dict[str, str], members: dict[str, bytes]) -> bytes:
    """An object of the mapped members, each value the source's own text (`null` when the
    source lacks it)."""
    parts = [
        orjson.dumps(key) + b":" + members.get(source, b"null") for key, source in mapping.items()
    ]
    return b"{" + b",".join(parts) + b"}"


_DECODER = json.JSONDecoder()


def _data_members(name: str) -> dict[str, bytes]:
    return _raw_members(_raw_members(example_text(name))["data"])


def _raw_members(text: bytes) -> dict[str, bytes]:
    """The members of a JSON object, each value as its text in `text`."""
    return dict(_raw_values(text, "{", "}"))


def _raw_items(text: bytes) -> list[bytes]:
    """The items of a JSON array, each as its text in `text`."""
    return [value for _, value in _raw_values(text, "[", "]")]


def _raw_values(text: bytes, opening: str, closing: str) -> list[tuple[str | None, bytes]]:
    """(key, value text) of each value of the first object or array in `text`; the key is
    None in an array."""
    source = text.decode("utf-8")
    values, position = [], _skip(source, source.index(opening) + 1)
    while source[position] != closing:
        key = None
        if opening == "{":
            key, position = _DECODER.raw_decode(source, position)
            position = _skip(source, _skip(source, position) + 1)  # past the colon
        _, end = _DECODER.raw_decode(source, position)
        values.append((key, source[position:end].encode("utf-8")))
        position = _skip(source, end)
        if source[position] == ",":
            position = _skip(source, position + 1)
    return values


def _skip(source: str, position: int) -> int:
    while source[position] in " \t\r\n":
        position += 1
    return position
