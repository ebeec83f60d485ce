"""The endpoints agree with each other and with the model, read over real HTTP."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from pipelines.sandbox import LIST_TYPES, Org, SandboxServer
from pipelines.sandbox.model import count_against
from tests.sandbox.conftest import BASIC, CREDENTIALS, MANAGEMENT, META, fetch_list, small_org


@dataclass
class Snapshot:
    lists: dict[tuple[str, str], list[dict]]
    details: dict[tuple[str, str], dict]
    metas: dict[str, dict]


@pytest.fixture(scope="module")
def snapshot(org: Org, server: SandboxServer) -> Snapshot:
    with httpx.Client(base_url=server.base_url, headers=BASIC) as http:
        lists = {
            (c.customer_id, t): fetch_list(http, c.customer_id, t)
            for c in org.customers
            for t in LIST_TYPES
        }
        pairs = {(cid, e["badgeMetaId"]) for (cid, _), entries in lists.items() for e in entries}
        stats = {"includeStatistics": "true"}
        details = {
            (cid, bid): http.get(f"{MANAGEMENT}/{cid}/badge/{bid}", params=stats).json()["data"]
            for cid, bid in sorted(pairs)
        }
        metas = {
            bid: http.get(f"{META}/{bid}", params=stats).json()["data"]
            for bid in sorted({bid for _, bid in pairs})
        }
    return Snapshot(lists, details, metas)


def _seconds(value: float) -> int:
    return round(value * 1_000_000)


def test_same_seed_gives_byte_identical_bodies(org: Org, server: SandboxServer) -> None:
    twin_org = small_org()
    customer_id = org.customers[0].customer_id
    pair_badge = org.list_entries(customer_id, "EARNED")[0].badge_id
    paths = [
        *(f"{META}/{bid}?includeStatistics=true" for bid in list(org.badges)[:10]),
        f"/api_gateway/v1/badges/customer/{customer_id}?badgeType=EARNED&page=1&limit=10",
        f"{MANAGEMENT}/{customer_id}/badge/{pair_badge}?includeStatistics=true",
    ]
    with SandboxServer(twin_org, CREDENTIALS) as twin:
        first = [httpx.get(server.base_url + p, headers=BASIC).content for p in paths]
        second = [httpx.get(twin.base_url + p, headers=BASIC).content for p in paths]
    assert first == second
    assert small_org(seed=8).customers[0] != org.customers[0]


def test_list_counts_match_the_detail_earns(snapshot: Snapshot) -> None:
    checked = 0
    for (customer_id, _), entries in snapshot.lists.items():
        for entry in entries:
            earns = snapshot.details[(customer_id, entry["badgeMetaId"])]["earnDetails"]["earns"]
            assert entry["earnedCount"] == (len(earns) or None)
            if earns:
                checked += 1
                last = max(_seconds(e["earnedOn"]) for e in earns)
                assert _seconds(entry["lastEarnedOnDate"]) == last
                last_event = max(_seconds(e["earnEventDate"]) for e in earns)
                assert _seconds(entry["lastEarnEventDate"]) == last_event
            else:
                assert "lastEarnedOnDate" not in entry
    assert checked > 100


def test_earned_and_expired_lists_follow_the_earn_statuses(snapshot: Snapshot) -> None:
    for (customer_id, badge_id), detail in snapshot.details.items():
        statuses = [e["earnStatus"] for e in detail["earnDetails"]["earns"]]
        earned = {e["badgeMetaId"] for e in snapshot.lists[(customer_id, "EARNED")]}
        expired = {e["badgeMetaId"] for e in snapshot.lists[(customer_id, "EXPIRED")]}
        assert (badge_id in earned) == ("ACTIVE" in statuses)
        assert (badge_id in expired) == (bool(statuses) and set(statuses) == {"EXPIRED"})


def test_available_lists_hold_live_badges_of_the_right_earn_type(snapshot: Snapshot) -> None:
    for (customer_id, list_type), entries in snapshot.lists.items():
        for entry in entries:
            detail = snapshot.details[(customer_id, entry["badgeMetaId"])]
            if list_type == "AVAILABLE":
                assert (detail["badgeType"], detail["badgeStatus"]) == ("ISSUE_EARN", "LIVE")
            if list_type == "AVAILABLE_TO_ISSUE":
                assert (detail["badgeType"], detail["badgeStatus"]) == ("EARN", "LIVE")
                assert "ACTIVE" in [i["issuedStatus"] for i in detail["issualDetails"]["issuals"]]


def test_detail_statistics_stay_within_the_limits(snapshot: Snapshot) -> None:
    counted = 0
    for detail in snapshot.details.values():
        for constraint in detail["customerConstraints"] + detail["badgeConstraints"]:
            stats = constraint["earnConstraintBlockStatistics"]
            limits = constraint["rollingWindowLimits"]
            if limits:
                for limit in limits:
                    key = "currentEarnCount" + limit["rollType"].title()
                    assert stats[key] <= limit["maxEarnLimit"]
                    counted += 1
            elif constraint["maxEarnLimit"] is not None:
                assert stats["currentEarnCount"] <= constraint["maxEarnLimit"]
                counted += stats["currentEarnCount"] > 0
    assert counted > 50


def test_no_constraint_is_ever_exceeded(org: Org) -> None:
    for (customer_id, badge_id), history in org.histories.items():
        for constraint in org.badges[badge_id].constraints:
            times = org.constraint_times(constraint, customer_id, badge_id)
            for window in constraint.windows:
                if window.max_earn_limit is None or constraint.kind == "NO_LIMIT":
                    continue
                for earn in history.earns:
                    count = count_against(constraint, window, times, earn.earned_us)
                    assert count <= window.max_earn_limit


def test_every_constraint_shape_and_quirk_appears(snapshot: Snapshot) -> None:
    meta_types = {
        (level, c["constraintType"])
        for meta in snapshot.metas.values()
        for level in ("customerConstraints", "badgeConstraints")
        for c in meta[level]
    }
    for kind in ("FIXED_VALUE", "FIXED_WINDOW", "ROLLING_WINDOW", "NO_LIMIT"):
        assert ("customerConstraints", f"CUSTOMER_BADGE_{kind}") in meta_types
        assert ("badgeConstraints", f"BADGE_{kind}") in meta_types
    assert ("badgeConstraints", "CUSTOMER_BADGE_FIXED_WINDOW") in meta_types
    detail_types = {
        c["constraintType"]
        for d in snapshot.details.values()
        for c in d["customerConstraints"] + d["badgeConstraints"]
    }
    assert detail_types == {"OVERALL", "FIXED_WINDOW", "ROLLING_WINDOW", "NO_LIMIT"}
    isos = [d["startsOnISO"] for d in snapshot.details.values()]
    assert any(iso.startswith("+5") for iso in isos)
    assert any(iso.endswith("+05:30") for iso in isos)
    assert any(d["startsOn"] >= 1e11 for d in snapshot.details.values())


def test_expected_row_counts_match_what_the_api_serves(org: Org, snapshot: Snapshot) -> None:
    def windows(constraint: dict) -> int:
        return len(constraint["rollingWindowLimits"] or [None])

    def meta_windows(constraint: dict) -> int:
        if constraint["constraintType"] != "CUSTOMER_BADGE_ROLLING_WINDOW":
            return 1
        return sum(constraint[k] is not None for k in constraint if k.startswith("maxEarnFor"))

    metas = snapshot.metas.values()
    details = snapshot.details.values()
    served = {
        "badges": len(snapshot.metas),
        "badge_owners": sum(len(m["ownership"]["restrictedToOwners"]) for m in metas),
        "badge_claims": sum(len(m["ownership"]["claims"]) for m in metas),
        "badge_custom_fields": sum(len(m["customFields"]) for m in metas),
        "badge_constraints": sum(
            meta_windows(c) for m in metas for c in m["customerConstraints"] + m["badgeConstraints"]
        ),
        "customer_badges": sum(len(entries) for entries in snapshot.lists.values()),
        "customer_badge_details": len(snapshot.details),
        "customer_badge_constraints": sum(
            windows(c) for d in details for c in d["customerConstraints"] + d["badgeConstraints"]
        ),
        "badge_issuals": sum(len(d["issualDetails"]["issuals"]) for d in details),
        "badge_earns": sum(len(d["earnDetails"]["earns"]) for d in details),
    }
    expected = org.expected_row_counts()
    assert {k: expected[k] for k in served} == served
    assert expected["badge_constraints"] > expected["badges"]
    assert org.listed_badge_ids() == set(snapshot.metas)
