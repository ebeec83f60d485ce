"""The raw record of each call: an answer (a body, or the vendor's error about the data) or a
call that got no answer, which is made again on a resume and never becomes data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pipelines.client.errors import BAD_BODY, PAGINATION_MISMATCH, ApiCallFailed
from pipelines.client.http import ApiResponse
from pipelines.lake.keys import CustomerRef
from pipelines.lake.raw import RawRecord


def ok_record(
    endpoint: str, response: ApiResponse, customer: CustomerRef | None, **where: Any
) -> RawRecord:
    """The record of an answered call (its body as received)."""
    return _record(endpoint, customer, response.path, True, response.status, response, **where)


def failure_record(
    endpoint: str, exc: ApiCallFailed, customer: CustomerRef | None, **where: Any
) -> RawRecord:
    """The record of a vendor error answer or of a call that failed (its kind as the code)."""
    return _record(
        endpoint,
        customer,
        exc.path,
        False,
        exc.http_status,
        exc,
        error_code=exc.error_code or (None if exc.answered else exc.kind),
        error_message=exc.message,
        **where,
    )


def _record(
    endpoint: str,
    customer: CustomerRef | None,
    request_path: str,
    ok: bool,
    http_status: int | None,
    answer: ApiResponse | ApiCallFailed,
    **fields: Any,
) -> RawRecord:
    return RawRecord(
        endpoint=endpoint,
        request_path=request_path,
        ok=ok,
        http_status=http_status,
        body=answer.body,
        customer_id=customer.customer_id if customer else None,
        identifier_type=customer.identifier_type if customer else None,
        attempts=answer.attempts,
        received_at=dt.datetime.now(dt.UTC),
        **fields,
    )


def is_answer(record: RawRecord) -> bool:
    """Whether the call got an answer: a body, or the vendor's error envelope about the data.

    The other failed records (transport failures, 5xx, 429 or broken bodies after every
    retry) are calls to make again, never data.
    """
    if record.ok or record.error_code == PAGINATION_MISMATCH:
        return True
    status = record.http_status
    return (
        status is not None
        and 400 <= status < 500
        and status != 429
        and record.error_code != BAD_BODY
    )
