"""Customer lists: pagination, the pagination-less quirk, defaults, sorting and filters."""

from __future__ import annotations

import httpx

from pipelines.sandbox import LIST_TYPES, Org
from pipelines.sandbox.handlers import has_pagination, rank_order
from tests.sandbox.conftest import CUSTOMER, fetch_list


def _heavy_list(org: Org) -> tuple[str, str, int]:
    """(customer, list type, size) of the longest list."""
    return max(
        (
            (c.customer_id, t, len(org.list_entries(c.customer_id, t)))
            for c in org.customers
            for t in LIST_TYPES
        ),
        key=lambda item: item[2],
    )


def test_pages_cover_the_list_with_consistent_totals(org: Org, client: httpx.Client) -> None:
    customer_id, list_type, size = _heavy_list(org)
    limit = 10
    total_pages = -(-size // limit)
    assert total_pages >= 3
    pages = []
    for page in range(total_pages + 1):
        params = {"badgeType": list_type, "page": page, "limit": limit, "includeExpired": "true"}
        pages.append(client.get(f"{CUSTOMER}/{customer_id}", params=params).json())
    paginations = [p["data"]["pagination"] for p in pages]
    assert [p["page"] for p in paginations] == list(range(total_pages + 1))
    assert {(p["size"], p["total"], p["totalPages"]) for p in paginations} == {
        (limit, size, total_pages)
    }
    ids = [e["badgeMetaId"] for p in pages for e in p["data"]["badges"]]
    expected = [b.badge_id for b in org.list_entries(customer_id, list_type)]
    assert ids == expected
    assert pages[total_pages]["data"]["badges"] == [] and pages[0]["errors"] == []


def test_defaults_are_page_zero_limit_ten_available_to_issue(
    org: Org, client: httpx.Client
) -> None:
    customer = next(
        c
        for c in org.customers
        if len(org.list_entries(c.customer_id, "AVAILABLE_TO_ISSUE", False)) > 10
    )
    body = client.get(f"{CUSTOMER}/{customer.customer_id}").json()
    expected = org.list_entries(customer.customer_id, "AVAILABLE_TO_ISSUE", False)
    assert [e["badgeMetaId"] for e in body["data"]["badges"]] == [b.badge_id for b in expected[:10]]
    assert body["data"]["pagination"] == {
        "page": 0,
        "size": 10,
        "total": len(expected),
        "totalPages": -(-len(expected) // 10),
    }


def test_some_single_page_lists_have_no_pagination(org: Org, client: httpx.Client) -> None:
    quiet = next(
        c.customer_id
        for c in org.customers
        if not has_pagination(c.customer_id) and org.list_entries(c.customer_id, "EARNED")
    )
    params = {"badgeType": "EARNED", "limit": 50, "includeExpired": "true"}
    body = client.get(f"{CUSTOMER}/{quiet}", params=params).json()
    assert set(body) == {"data"} and set(body["data"]) == {"badges"}
    assert len(body["data"]["badges"]) == len(org.list_entries(quiet, "EARNED"))
    loud = next(c.customer_id for c in org.customers if has_pagination(c.customer_id))
    body = client.get(f"{CUSTOMER}/{loud}", params=params).json()
    assert body["data"]["pagination"]["page"] == 0 and body["errors"] == []


def test_include_expired_false_drops_expired_badges(org: Org, client: httpx.Client) -> None:
    customer_id = org.customers[0].customer_id
    with_expired = fetch_list(client, customer_id, "EXPIRED")
    params = {"badgeType": "EXPIRED", "limit": 100, "includeExpired": "false"}
    without = client.get(f"{CUSTOMER}/{customer_id}", params=params).json()["data"]["badges"]
    statuses = {b.badge_id: b.status(org.as_of_us) for b in org.badges.values()}
    assert {e["badgeMetaId"] for e in without} == {
        e["badgeMetaId"] for e in with_expired if statuses[e["badgeMetaId"]] != "EXPIRED"
    }
    assert len(without) < len(with_expired)


def test_sort_on_rank_and_group_filter(org: Org, client: httpx.Client) -> None:
    customer_id, list_type, _ = _heavy_list(org)
    params = {"badgeType": list_type, "limit": 100, "includeExpired": "true", "sortOn": "RANK"}
    ranked = client.get(f"{CUSTOMER}/{customer_id}", params=params).json()["data"]["badges"]
    expected = sorted(org.list_entries(customer_id, list_type), key=lambda b: rank_order(org, b))
    assert [e["badgeMetaId"] for e in ranked] == [b.badge_id for b in expected]
    group_id = next(e["badgeGroupId"] for e in ranked if e["badgeGroupId"])
    grouped = client.get(
        f"{CUSTOMER}/{customer_id}", params={**params, "groupId": group_id}
    ).json()["data"]["badges"]
    assert grouped and {e["badgeGroupId"] for e in grouped} == {group_id}
    assert len(grouped) < len(ranked)


def test_unknown_badge_type_is_rejected(org: Org, client: httpx.Client) -> None:
    response = client.get(f"{CUSTOMER}/{org.customers[0].customer_id}", params={"badgeType": "X"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 400
