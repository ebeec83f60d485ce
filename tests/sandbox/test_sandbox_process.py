"""The sandbox as a child process: starts, answers like the in-process one, is gone after exit."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import pytest

from pipelines.sandbox import SandboxCredentials, SandboxProcess, basic_header, generate_org
from pipelines.sandbox.render import meta_body
from tests.sandbox.conftest import AS_OF, META


def test_process_serves_the_same_org_and_stops(tmp_path: Path) -> None:
    credentials = SandboxCredentials.random()
    csv_path = tmp_path / "customers.csv"
    org = generate_org(customers=25, badges=12, seed=5, as_of=AS_OF)
    badge = next(iter(org.badges.values()))
    headers = {"Authorization": basic_header(credentials.username, credentials.password)}
    with SandboxProcess(25, 12, 5, credentials, customers_csv=csv_path, as_of=AS_OF) as child:
        assert child.base_url.startswith("http://127.0.0.1:")
        response = httpx.get(f"{child.base_url}{META}/{badge.badge_id}", headers=headers)
        wrong = httpx.get(f"{child.base_url}{META}/{badge.badge_id}")
        process = child.process
    assert response.status_code == 200 and wrong.status_code == 401
    assert response.content == meta_body(org, badge, include_statistics=False)
    assert process is not None and process.poll() is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{child.base_url}{META}/{badge.badge_id}", headers=headers)
    with csv_path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 25
    assert {r["identifier_type"] for r in rows} == {
        "id",
        "email",
        "mobile",
        "externalId",
        "cardNumber",
    }
    for row in rows:
        customer = org.find_customer(row["customer_id"], row["identifier_type"])
        assert customer is not None


def test_credentials_that_look_like_options_reach_the_child(tmp_path: Path) -> None:
    # Random URL-safe secrets begin with "-" one time in 64; the child must not read them as flags.
    credentials = SandboxCredentials(
        username="-user", password="-pass", client_key="-key", client_secret="--secret"
    )
    org = generate_org(customers=5, badges=4, seed=5, as_of=AS_OF)
    badge = next(iter(org.badges.values()))
    path = f"{META}/{badge.badge_id}"
    with SandboxProcess(5, 4, 5, credentials, as_of=AS_OF) as child:
        basic = httpx.get(
            child.base_url + path,
            headers={"Authorization": basic_header(credentials.username, credentials.password)},
        )
        grant = {"key": credentials.client_key, "secret": credentials.client_secret}
        token = httpx.post(child.base_url + "/v3/oauth/token/generate", json=grant)
        oauth = httpx.get(
            child.base_url + path,
            headers={"X-CAP-API-OAUTH-TOKEN": token.json()["data"]["accessToken"]},
        )
    assert (basic.status_code, token.status_code, oauth.status_code) == (200, 200, 200)
    assert basic.content == oauth.content == meta_body(org, badge, include_statistics=False)
