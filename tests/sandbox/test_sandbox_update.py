"""PUT badgeMeta: applying changes (seen by the GET endpoints) and the validation codes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pipelines.sandbox import Org, SandboxServer
from pipelines.sandbox.model import DAY
from tests.sandbox.conftest import BASIC, CREDENTIALS, META, small_org


@pytest.fixture
def own_org() -> Org:
    return small_org(seed=11)


@pytest.fixture
def http(own_org: Org) -> Iterator[httpx.Client]:
    with (
        SandboxServer(own_org, CREDENTIALS) as server,
        httpx.Client(base_url=server.base_url, headers=BASIC) as client,
    ):
        yield client


def _badge(org: Org, status: str, **wanted: object) -> str:
    return next(
        b.badge_id
        for b in org.badges.values()
        if b.status(org.as_of_us) == status and all(getattr(b, k) == v for k, v in wanted.items())
    )


def _seconds(us: int) -> int:
    return us // 1_000_000


def test_update_changes_the_served_meta(own_org: Org, http: httpx.Client) -> None:
    badge_id = _badge(own_org, "LIVE")
    before = http.get(f"{META}/{badge_id}").json()["data"]
    payload = {
        "id": badge_id,
        "name": "Renamed badge",
        "customFields": {"Priority": "9"},
        "isActive": False,
        "badgeRank": 42,
        "customerConstraints": [{"constraintType": "CUSTOMER_BADGE_NO_LIMIT"}],
    }
    payload["badgeConstraints"] = [{"constraintType": "BADGE_NO_LIMIT"}]
    response = http.put(META, json=payload)
    assert response.status_code == 200, response.text
    assert response.json()["errors"] == []
    after = http.get(f"{META}/{badge_id}").json()["data"]
    assert (after["name"], after["active"], after["badgeRank"]) == ("Renamed badge", False, 42)
    assert after["customFields"] == {"Priority": "9"}
    assert after["customerConstraints"] == [{"constraintType": "CUSTOMER_BADGE_NO_LIMIT"}]
    assert after["lastUpdatedOn"] > before["lastUpdatedOn"]
    assert own_org.badges[badge_id].name == "Renamed badge"


def test_upcoming_badge_start_may_move(own_org: Org, http: httpx.Client) -> None:
    badge = own_org.badges[_badge(own_org, "UPCOMING")]
    new_start = _seconds(badge.starts_us) + 3600
    response = http.put(META, json={"id": badge.badge_id, "startOn": new_start})
    assert response.status_code == 200
    assert http.get(f"{META}/{badge.badge_id}").json()["data"]["startOn"] == new_start


def test_validation_codes(own_org: Org, http: httpx.Client) -> None:
    live = own_org.badges[_badge(own_org, "LIVE")]
    upcoming = own_org.badges[_badge(own_org, "UPCOMING")]
    windowed = next(
        b
        for b in own_org.badges.values()
        if [c.kind for c in b.customer_constraints] == ["FIXED_WINDOW"]
    )
    now = _seconds(own_org.as_of_us)
    cases = [
        ({"id": upcoming.badge_id, "startOn": _seconds(upcoming.expires_us) + 10}, 720),
        ({"id": live.badge_id, "startOn": _seconds(live.starts_us) - 3600}, 723),
        ({"id": live.badge_id, "expiresOn": now - 5 * DAY // 1_000_000}, 724),
        (
            {
                "id": live.badge_id,
                "earnedBadgeExpiry": {"expiryType": "ABSOLUTE", "type": "FIXED_DATE"},
            },
            705,
        ),
        (
            {
                "id": windowed.badge_id,
                "customerConstraints": [
                    {"constraintType": "CUSTOMER_BADGE_FIXED_VALUE", "maxEarnLimit": 3}
                ],
            },
            826,
        ),
    ]
    for payload, code in cases:
        response = http.put(META, json=payload)
        assert response.status_code == 400, (code, response.text)
        assert response.json()["errors"][0]["code"] == code
    unknown = http.put(META, json={"id": "0" * 24, "name": "x"})
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["code"] == 404
    assert http.put(META, json={"name": "no id"}).status_code == 400
    assert own_org.version == 0  # nothing was applied


def test_model_mutations_show_up_over_http(own_org: Org, http: httpx.Client) -> None:
    pair = next(
        (cid, bid)
        for (cid, bid), h in own_org.histories.items()
        if any(i.status == "ACTIVE" for i in h.issuals)
        and own_org.badges[bid].status(own_org.as_of_us) == "LIVE"
        and own_org.is_under_limits(cid, bid)
    )
    path = f"/api_gateway/v1/badges/management/{pair[0]}/badge/{pair[1]}"
    before = http.get(path).json()["data"]
    earn = own_org.add_earn(*pair)
    issual = own_org.revoke_issual(*pair)
    after = http.get(path).json()["data"]
    assert after["earnDetails"]["earnCount"] == before["earnDetails"]["earnCount"] + 1
    assert after["earnDetails"]["earns"][-1]["earnId"] == earn.earn_id
    revoked = [i for i in after["issualDetails"]["issuals"] if i["issueId"] == issual.issue_id]
    assert revoked[0]["issuedStatus"] == "REVOKED"
