"""Auth schemes, identifier lookups and the vendor's error envelopes."""

from __future__ import annotations

import httpx
import pytest

from pipelines.sandbox import Org, SandboxCredentials, SandboxServer, basic_header
from tests.sandbox.conftest import CREDENTIALS, CUSTOMER, MANAGEMENT, META

TOKEN = "/v3/oauth/token/generate"


def _meta_path(org: Org) -> str:
    return f"{META}/{next(iter(org.badges))}"


def test_basic_auth_with_md5_password_is_accepted(org: Org, server: SandboxServer) -> None:
    header = basic_header(CREDENTIALS.username, CREDENTIALS.password)
    response = httpx.get(server.base_url + _meta_path(org), headers={"Authorization": header})
    assert response.status_code == 200
    assert response.json()["errors"] is None


def test_wrong_password_is_401_without_echoing_credentials(org: Org, server: SandboxServer) -> None:
    header = basic_header(CREDENTIALS.username, "not-the-password")
    response = httpx.get(server.base_url + _meta_path(org), headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == 401
    assert "authentication failed" in response.json()["errors"][0]["message"]
    assert header.split()[1] not in response.text and CREDENTIALS.username not in response.text
    missing = httpx.get(server.base_url + _meta_path(org))
    assert missing.status_code == 401


def test_oauth_token_grants_access(org: Org, server: SandboxServer) -> None:
    body = {"key": CREDENTIALS.client_key, "secret": CREDENTIALS.client_secret}
    token = httpx.post(server.base_url + TOKEN, json=body).json()["data"]
    assert token["ttlSeconds"] == 300
    headers = {"X-CAP-API-OAUTH-TOKEN": token["accessToken"]}
    assert httpx.get(server.base_url + _meta_path(org), headers=headers).status_code == 200
    wrong = httpx.post(server.base_url + TOKEN, json={**body, "secret": "nope"})
    assert wrong.status_code == 401 and "nope" not in wrong.text
    forged = httpx.get(server.base_url + _meta_path(org), headers={"X-CAP-API-OAUTH-TOKEN": "x"})
    assert forged.status_code == 401


def test_expired_token_is_401(org: Org) -> None:
    credentials = SandboxCredentials.random()
    expiring = SandboxCredentials(
        credentials.username,
        credentials.password,
        credentials.client_key,
        credentials.client_secret,
        token_ttl_seconds=0.0,
    )
    with SandboxServer(org, expiring) as server:
        body = {"key": expiring.client_key, "secret": expiring.client_secret}
        token = httpx.post(server.base_url + TOKEN, json=body).json()["data"]["accessToken"]
        response = httpx.get(
            server.base_url + _meta_path(org), headers={"X-CAP-API-OAUTH-TOKEN": token}
        )
    assert response.status_code == 401
    assert "token expired" in response.json()["errors"][0]["message"]
    assert token not in response.text
    assert credentials.password not in repr(credentials)


@pytest.mark.parametrize("identifier_type", ["email", "mobile", "externalId", "cardNumber"])
def test_identifier_header_resolves_the_same_customer(
    org: Org, client: httpx.Client, identifier_type: str
) -> None:
    customer = org.customers[0]
    badge_id = org.list_entries(customer.customer_id, "EARNED")[0].badge_id
    params = {"badgeType": "EARNED", "limit": 100, "includeExpired": "true"}
    by_id = client.get(f"{CUSTOMER}/{customer.customer_id}", params=params)
    value = customer.identifier(identifier_type)
    headers = {"X-CAP-CUSTOMER-IDENTIFIER": identifier_type}
    by_other = client.get(f"{CUSTOMER}/{value}", params=params, headers=headers)
    assert by_other.content == by_id.content
    detail_path = f"{MANAGEMENT}/{{}}/badge/{badge_id}?includeStatistics=true"
    detail = client.get(detail_path.format(value), headers=headers)
    assert detail.content == client.get(detail_path.format(customer.customer_id)).content


def test_error_envelopes(org: Org, client: httpx.Client) -> None:
    customer_id = org.customers[0].customer_id
    badge_id = next(iter(org.badges))
    cases = [
        (f"{CUSTOMER}/999", {}, 404, 1026),
        (f"{MANAGEMENT}/999/badge/{badge_id}", {}, 404, 1026),
        (f"{CUSTOMER}/{customer_id}", {"X-CAP-CUSTOMER-IDENTIFIER": "passport"}, 400, 1028),
        (f"{MANAGEMENT}/{customer_id}/badge/{'0' * 24}", {}, 404, 404),
        (f"{META}/{'0' * 24}", {}, 404, 404),
    ]
    for path, headers, status, code in cases:
        response = client.get(path, headers=headers)
        assert response.status_code == status, path
        body = response.json()
        assert body["data"] is None and body["warnings"] == []
        assert body["errors"][0]["code"] == code
