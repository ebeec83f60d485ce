"""The API half of `badges doctor`: the base URL answers, the credentials are accepted, and one
call of each endpoint succeeds, made with the pipeline's own client, paths and headers."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from pipelines.client.endpoints import (
    DETAIL_PATH,
    LIST_PATH,
    LIST_TYPES,
    META_PATH,
    identifier_headers,
)
from pipelines.client.errors import ApiCallFailed, AuthenticationFailed
from pipelines.client.http import ApiClient, ApiResponse
from pipelines.client.settings import ApiSettings, ClientTuning
from pipelines.extract.customers import CustomerRef
from pipelines.lake.raw import ENDPOINT_DETAIL, ENDPOINT_LIST, ENDPOINT_META

# A doctor answers in seconds: one retry, short timeouts.
DOCTOR_TUNING = ClientTuning(
    concurrency=4, max_attempts=2, timeout_seconds=10.0, max_throttled_seconds=20.0
)
ANSWER_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Check:
    passed: bool | None  # None: skipped, because an earlier check failed or had nothing to give
    text: str

    @property
    def line(self) -> str:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.passed]
        return f"{mark} {self.text}"


def base_url_answers(base_url: str) -> Check:
    """Any HTTP answer will do: this is about reaching the host, not about credentials."""
    try:
        answer = httpx.get(base_url, timeout=ANSWER_TIMEOUT_SECONDS)
    except Exception as error:
        return Check(False, f"base URL answers: {base_url}: {type(error).__name__}: {error}")
    return Check(True, f"base URL answers: {base_url} (HTTP {answer.status_code})")


def auth_schemes(settings: ApiSettings) -> dict[str, ApiSettings]:
    """The settings of each configured scheme on its own (OAuth wins when both are set)."""
    schemes = {}
    if settings.username and settings.password:
        schemes["Basic"] = dataclasses.replace(settings, client_key=None, client_secret=None)
    if settings.client_key and settings.client_secret:
        schemes["OAuth"] = dataclasses.replace(settings, username=None, password=None)
    return schemes


def probe_api(settings: ApiSettings, customer: CustomerRef | None) -> list[Check]:
    """Authentication with each configured scheme, then a list, a detail and a meta call."""
    return asyncio.run(_probe(settings, customer))


async def _probe(settings: ApiSettings, customer: CustomerRef | None) -> list[Check]:
    tuned = dataclasses.replace(settings, tuning=DOCTOR_TUNING)
    if customer is None:
        return [Check(None, "authentication and endpoint calls: no customer to call with")]
    checks = []
    for scheme, scheme_settings in auth_schemes(tuned).items():
        checks.append(await _authenticates(scheme, scheme_settings, customer))
    if not all(check.passed for check in checks):
        return [*checks, Check(None, "endpoint calls: authentication did not succeed")]
    async with ApiClient(tuned) as client:
        return checks + await _endpoint_calls(client, customer)


def _list_path(customer: CustomerRef) -> str:
    return LIST_PATH.format(customer=quote(customer.customer_id, safe="@+"))


def _list_params(list_type: str) -> dict[str, Any]:
    return {"badgeType": list_type, "page": 0, "limit": 10, "includeExpired": "true"}


def _failure(error: Exception) -> str:
    if isinstance(error, ApiCallFailed):
        details = [f"HTTP {error.http_status}" if error.http_status else None]
        details.append(f"code {error.error_code}" if error.error_code else None)
        extra = ", ".join(d for d in details if d)
        return f"{error}" + (f" ({extra})" if extra else "")
    return str(error).removeprefix("authentication failed: ") or type(error).__name__


async def _authenticates(scheme: str, settings: ApiSettings, customer: CustomerRef) -> Check:
    label = f"authentication ({scheme})"
    async with ApiClient(settings) as client:
        try:
            await client.call(
                ENDPOINT_LIST,
                _list_path(customer),
                _list_params(LIST_TYPES[0]),
                identifier_headers(customer.identifier_type),
            )
        except AuthenticationFailed as error:
            return Check(False, f"{label}: {_failure(error)}")
        except ApiCallFailed as error:
            if error.http_status is None:  # no answer at all: nothing learnt about credentials
                return Check(False, f"{label}: no answer: {_failure(error)}")
        except Exception as error:
            return Check(False, f"{label}: {type(error).__name__}: {_failure(error)}")
    who = f"user {settings.username}" if scheme == "Basic" else "client key"
    return Check(True, f"{label}: {who} accepted")


async def _endpoint_calls(client: ApiClient, customer: CustomerRef) -> list[Check]:
    label = f"list call ({ENDPOINT_LIST})"
    headers = identifier_headers(customer.identifier_type)
    badge_id = None
    try:
        for list_type in LIST_TYPES:
            answer = await client.call(
                ENDPOINT_LIST, _list_path(customer), _list_params(list_type), headers
            )
            badge_id = _first_badge(answer)
            if badge_id:
                break
    except Exception as error:
        failed = Check(False, f"{label}: customer {customer.customer_id}: {_failure(error)}")
        return [failed, Check(None, "detail and meta calls: no list to take a badge from")]
    if badge_id is None:
        empty = f"{label}: customer {customer.customer_id} has no badge in any list"
        return [Check(True, empty), Check(None, "detail and meta calls: no badge listed")]
    listed = Check(True, f"{label}: customer {customer.customer_id} lists badge {badge_id}")
    return [listed, *await _badge_calls(client, customer, badge_id)]


async def _badge_calls(client: ApiClient, customer: CustomerRef, badge_id: str) -> list[Check]:
    detail_path = DETAIL_PATH.format(
        customer=quote(customer.customer_id, safe="@+"), badge=quote(badge_id, safe="")
    )
    calls = [
        (
            f"detail call ({ENDPOINT_DETAIL}): customer {customer.customer_id}, badge {badge_id}",
            ENDPOINT_DETAIL,
            detail_path,
            identifier_headers(customer.identifier_type),
        ),
        (
            f"meta call ({ENDPOINT_META}): badge {badge_id}",
            ENDPOINT_META,
            META_PATH.format(badge=quote(badge_id, safe="")),
            None,
        ),
    ]
    checks = []
    for label, endpoint, path, headers in calls:
        try:
            answer = await client.call(endpoint, path, {"includeStatistics": "true"}, headers)
        except Exception as error:
            checks.append(Check(False, f"{label}: {_failure(error)}"))
        else:
            checks.append(Check(True, f"{label} (HTTP {answer.status})"))
    return checks


def _first_badge(answer: ApiResponse) -> str | None:
    data = answer.data.get("data") if isinstance(answer.data, dict) else None
    entries = data.get("badges") if isinstance(data, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("badgeMetaId"), str):
            return entry["badgeMetaId"]
    return None
