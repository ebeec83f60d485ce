"""Each fault flag has an observable effect; the OAuth call only ever gets latency."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import orjson
import pytest

from pipelines.sandbox import LIST_TYPES, Faults, Org, SandboxServer
from pipelines.sandbox.faults import FaultInjector, SandboxStats, Throttled
from tests.client.fake_clock import FakeClock
from tests.sandbox.conftest import BASIC, CREDENTIALS, CUSTOMER, META

TOKEN = "/v3/oauth/token/generate"
TOKEN_BODY = {"key": CREDENTIALS.client_key, "secret": CREDENTIALS.client_secret}


@contextmanager
def faulty(org: Org, faults: Faults) -> Iterator[tuple[SandboxServer, httpx.Client]]:
    with (
        SandboxServer(org, CREDENTIALS, faults) as server,
        httpx.Client(base_url=server.base_url, headers=BASIC) as client,
    ):
        yield server, client


def _meta(org: Org) -> str:
    return f"{META}/{next(iter(org.badges))}"


def test_fail_rate_answers_5xx_envelopes_but_not_the_token_call(org: Org) -> None:
    with faulty(org, Faults(fail_rate=1.0)) as (server, client):
        responses = [client.get(_meta(org)) for _ in range(6)]
        token = client.post(TOKEN, json=TOKEN_BODY)
    assert {r.status_code for r in responses} <= {500, 502, 503}
    assert all(r.json()["errors"][0]["code"] == r.status_code for r in responses)
    assert token.status_code == 200
    assert server.stats.failures == 6 and server.stats.faults_injected == 6


def test_rate_limit_answers_429_with_the_vendor_envelope_per_api(org: Org) -> None:
    with faulty(org, Faults(rate_limit="badge_meta=1/min")) as (server, client):
        first, second = client.get(_meta(org)), client.get(_meta(org))
        listed = client.get(
            f"{CUSTOMER}/{org.customers[0].customer_id}", params={"badgeType": "EARNED"}
        )
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json()["errors"][0]["code"] == 429
    assert 1 <= int(second.headers["Retry-After"]) <= 60
    assert listed.status_code == 200  # another API has its own budget (here: none)
    assert server.stats.rate_limited == 1


def test_rate_limit_without_retry_after_header(org: Org) -> None:
    with faulty(org, Faults(rate_limit="1/min", retry_after=False)) as (_, client):
        client.get(_meta(org))
        refused = client.get(_meta(org))
    assert refused.status_code == 429
    assert "Retry-After" not in refused.headers


def test_fixed_windows_count_each_api_apart_and_reset_on_the_boundary() -> None:
    clock = FakeClock(start=0.0)
    injector = FaultInjector(Faults(rate_limit="2/10s"), SandboxStats(), clock)
    assert [injector.throttle("badge_meta") for _ in range(2)] == [None, None]
    clock.now = 3.2
    assert injector.throttle("badge_meta") == Throttled(retry_after=7)  # until t = 10
    assert injector.throttle("customer_badges") is None  # its own window
    clock.now = 10.0
    assert injector.throttle("badge_meta") is None  # a new window
    assert injector.throttle("update_badge_meta") is None  # no limit stated for it


def test_an_unreadable_rate_limit_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="cannot read '100 per minute'"):
        Faults(rate_limit="100 per minute")


def test_revoked_credentials_refuse_requests_and_tokens(org: Org) -> None:
    with faulty(org, Faults(revoke_after=3)) as (server, client):
        token = client.post(TOKEN, json=TOKEN_BODY).json()["data"]["accessToken"]
        before = [client.get(_meta(org)).status_code for _ in range(2)]
        after = client.get(_meta(org))
        with_token = client.get(_meta(org), headers={"X-CAP-API-OAUTH-TOKEN": token})
        new_token = client.post(TOKEN, json=TOKEN_BODY)
    assert before == [200, 200]
    assert after.status_code == 401
    assert "revoked" in after.json()["errors"][0]["message"]
    assert with_token.status_code == 401
    assert new_token.status_code == 401
    assert server.stats.auth_failures == 3


def test_reset_drops_the_connection_mid_body(org: Org) -> None:
    with faulty(org, Faults(reset_rate=1.0)) as (server, client):
        with pytest.raises(httpx.TransportError):
            client.get(_meta(org))
        token = client.post(TOKEN, json=TOKEN_BODY)
    assert token.status_code == 200
    assert server.stats.resets == 1


def test_truncate_sends_valid_http_with_broken_json(org: Org) -> None:
    with faulty(org, Faults(truncate_rate=1.0)) as (server, client):
        response = client.get(_meta(org))
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)
    assert server.stats.truncations == 1


def test_latency_is_added_around_the_mean(org: Org) -> None:
    with faulty(org, Faults(latency_ms=4.0)) as (server, client):
        for _ in range(5):
            assert client.get(_meta(org)).status_code == 200
    assert server.stats.delays == 5
    assert 5 * 0.002 <= server.stats.delay_seconds <= 5 * 0.006


def test_same_seed_same_request_order_same_faults(org: Org) -> None:
    def statuses(seed: int) -> list[int]:
        with faulty(org, Faults(fail_rate=0.5, seed=seed)) as (_, client):
            return [client.get(_meta(org)).status_code for _ in range(16)]

    first = statuses(3)
    assert first == statuses(3)
    assert 200 in first and set(first) - {200}


def test_drift_makes_naive_paging_see_duplicates_and_misses(org: Org) -> None:
    customer_id, list_type = max(
        ((c.customer_id, t) for c in org.customers for t in LIST_TYPES),
        key=lambda key: len(org.list_entries(*key)),
    )
    expected = [b.badge_id for b in org.list_entries(customer_id, list_type)]
    params = {"badgeType": list_type, "limit": 10, "includeExpired": "true"}
    with faulty(org, Faults(drift=True)) as (server, client):
        seen = []
        for page in range(-(-len(expected) // 10)):
            response = client.get(f"{CUSTOMER}/{customer_id}", params={**params, "page": page})
            seen += [e["badgeMetaId"] for e in response.json()["data"]["badges"]]
        whole = {**params, "limit": len(expected)}
        at_once = [
            [
                e["badgeMetaId"]
                for e in client.get(f"{CUSTOMER}/{customer_id}", params=whole).json()["data"][
                    "badges"
                ]
            ]
            for _ in range(2)
        ]
    assert len(seen) == len(expected)
    assert len(set(seen)) < len(seen)  # duplicates
    assert set(expected) - set(seen)  # misses
    assert at_once[0] == at_once[1] == expected
    assert server.stats.drifted_pages == -(-len(expected) // 10)


def test_new_key_puts_the_key_in_every_badge_answered(org: Org) -> None:
    customer = org.customers[0].customer_id
    with faulty(org, Faults(new_key='badgeTier={"level": 2}')) as (_, client):
        meta = client.get(_meta(org)).json()["data"]
        listed = client.get(f"{CUSTOMER}/{customer}", params={"badgeType": "AVAILABLE"})
        unknown = client.get(f"{META}/{'0' * 24}")
    entries = listed.json()["data"]["badges"]
    assert meta["badgeTier"] == {"level": 2}
    assert entries and all(entry["badgeTier"] == {"level": 2} for entry in entries)
    assert "badgeTier" not in unknown.text  # an error answer is left as it is
    with pytest.raises(ValueError, match="not KEY=JSON"):
        Faults(new_key="badgeTier=GOLD")
