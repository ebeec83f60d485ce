"""The sandbox's vendor world answers with the documented examples, byte for byte, and with
the vendor's documented errors where the docs show no answer."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pipelines.sandbox import SandboxCredentials, SandboxProcess, SandboxServer
from pipelines.sandbox.vendor_world import (
    BADGE123,
    EMAIL_CUSTOMER,
    ISSUEDS_TEST6,
    OG_BADGE2,
    TRANSACTION_SUCCESS,
    VendorWorld,
    example_text,
)
from tests.sandbox.conftest import BASIC, CREDENTIALS, CUSTOMER, MANAGEMENT, META


@pytest.fixture(scope="module")
def vendor() -> Iterator[httpx.Client]:
    with (
        SandboxServer(world=VendorWorld(), credentials=CREDENTIALS) as server,
        httpx.Client(base_url=server.base_url, headers=BASIC) as http,
    ):
        yield http


def test_documented_answers_are_served_as_the_vendor_wrote_them(vendor: httpx.Client) -> None:
    detail = vendor.get(
        f"{MANAGEMENT}/919999999994/badge/{ISSUEDS_TEST6}",
        params={"includeStatistics": "true"},
        headers={"X-CAP-CUSTOMER-IDENTIFIER": "mobile"},
    )
    assert detail.content == example_text("get-customer-badge-detail-1")
    with_statistics = vendor.get(f"{META}/{OG_BADGE2}", params={"includeStatistics": "true"})
    without = vendor.get(f"{META}/{OG_BADGE2}")
    assert with_statistics.content == example_text("get-badge-meta-by-id-3")
    assert without.content == example_text("get-badge-meta-by-id-4")
    earned = vendor.get(
        f"{CUSTOMER}/{EMAIL_CUSTOMER}",
        params={"badgeType": "EARNED"},
        headers={"X-CAP-CUSTOMER-IDENTIFIER": "email"},
    )
    assert earned.content == example_text("get-customer-badges-3")  # no pagination


def test_a_list_shown_entry_by_entry_is_paged_with_each_entry_as_documented(
    vendor: httpx.Client,
) -> None:
    pages = [
        vendor.get(
            f"{CUSTOMER}/62407752",
            params={"badgeType": "AVAILABLE_TO_ISSUE", "page": p, "limit": 4},
        ).json()["data"]
        for p in range(3)
    ]
    assert [p["pagination"] for p in pages] == [
        {"page": p, "size": 4, "total": 10, "totalPages": 3} for p in range(3)
    ]
    listed = [entry["badgeMetaId"] for page in pages for entry in page["badges"]]
    assert len(listed) == len(set(listed)) == 10
    assert TRANSACTION_SUCCESS in listed and BADGE123 in listed
    whole = vendor.get(
        f"{CUSTOMER}/62407752", params={"badgeType": "AVAILABLE_TO_ISSUE", "limit": 50}
    ).content
    # get-customer-badges-1's epochs are integers and its entries appear verbatim
    assert b'"startOn": 1710768224' in whole and b'"rollForMonths": 10' in whole


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        (f"{CUSTOMER}/62090013?badgeType=EARNED", {}, 404, 1026),
        (
            f"{CUSTOMER}/4111111111111111?badgeType=EARNED",
            {"X-CAP-CUSTOMER-IDENTIFIER": "cardNumber"},
            400,
            1028,
        ),
        (f"{META}/{TRANSACTION_SUCCESS}", {}, 404, 404),
        (f"{MANAGEMENT}/62407752/badge/{TRANSACTION_SUCCESS}", {}, 404, 404),
    ],
    ids=["unknown-customer", "refused-lookup", "unknown-badge-meta", "undocumented-detail"],
)
def test_what_the_docs_do_not_show_gets_the_documented_errors(
    vendor: httpx.Client, path: str, headers: dict, status: int, code: int
) -> None:
    answer = vendor.get(path, headers=headers)
    assert answer.status_code == status
    assert answer.json()["errors"][0]["code"] == code


def test_the_world_runs_as_its_own_process_with_its_customers_file(tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    credentials = SandboxCredentials()
    with SandboxProcess(0, 0, 0, credentials, customers_csv=customers, world="vendor") as server:
        answer = httpx.get(
            f"{server.base_url}{META}/{BADGE123}",
            params={"includeStatistics": "true"},
            headers={"X-CAP-API-OAUTH-TOKEN": "none"},
        )
        assert answer.status_code == 401  # auth is enforced as for the generated org
    with customers.open() as rows:
        listed = [(row["customer_id"], row["identifier_type"]) for row in csv.DictReader(rows)]
    assert listed == [
        ("62407752", "id"),
        ("919999999994", "mobile"),
        ("381921157", "id"),
        (EMAIL_CUSTOMER, "email"),
        ("62090013", "id"),
        ("4111111111111111", "cardNumber"),
    ]
