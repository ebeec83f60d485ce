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
