"""The API half of `badges doctor`: the base URL answers, the credentials are accepted, and one
call of each endpoint succeeds, made with the pipeline's own client, paths and headers."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass

import httpx

from pipelines.client.endpoints import (
    DETAIL_ENDPOINT,
    LIST_ENDPOINT,
    LIST_TYPES,
    META_ENDPOINT,
    Request,
)
from pipelines.client.errors import ApiCallFailed, AuthenticationFailed
from pipelines.client.http import ApiClient, ApiResponse
from pipelines.client.settings import ApiSettings, ClientTuning
from pipelines.lake.keys import CustomerRef

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


def _list_request(customer: CustomerRef, list_type: str) -> Request:
    return LIST_ENDPOINT.request(customer=customer, list_type=list_type, page=0, limit=10)


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
            await client.call(_list_request(customer, LIST_TYPES[0]))
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
    label = f"list call ({LIST_ENDPOINT.name})"
    badge_id = None
    try:
        for list_type in LIST_TYPES:
            answer = await client.call(_list_request(customer, list_type))
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
    calls = [
        (
            f"detail call ({DETAIL_ENDPOINT.name}): customer {customer.customer_id}, "
            f"badge {badge_id}",
            DETAIL_ENDPOINT.request(customer=customer, badge=badge_id),
        ),
        (
            f"meta call ({META_ENDPOINT.name}): badge {badge_id}",
            META_ENDPOINT.request(badge=badge_id),
        ),
    ]
    checks = []
    for label, request in calls:
        try:
            answer = await client.call(request)
        except Exception as error:
            checks.append(Check(False, f"{label}: {_failure(error)}"))
        else:
            checks.append(Check(True, f"{label} (HTTP {answer.status})"))
    return checks


def _first_badge(answer: ApiResponse) -> str | None:
    data = answer.data.get("data") if isinstance(answer.data, dict) else None
    paging = LIST_ENDPOINT.paging
    assert paging is not None
    entries = data.get(paging.items_key) if isinstance(data, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get(paging.id_key), str):
            return entry[paging.id_key]
    return None
