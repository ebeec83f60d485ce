"""Failures the client reports. Messages name the call, never a credential.

A call either gets an answer (a body, or the vendor's error envelope about the data:
1026 customer not found, 404 badge not found, ...) or it fails: no answer after every
retry. Failures carry a `kind`, so a refused snapshot can say what went wrong.
"""

from __future__ import annotations

VENDOR_ANSWER = "vendor_answer"  # an error envelope about the data: an answer, not a failure
TIMEOUT = "timeout"
CONNECTION = "connection"
HTTP_5XX = "http_5xx"
BAD_BODY = "bad_body"
RATE_LIMITED = "rate_limited"
PAGINATION = "pagination"
PAGINATION_MISMATCH = "pagination_mismatch"  # the error code of a list whose pages disagree

FAILURE_LABELS = {
    HTTP_5XX: "5xx",
    TIMEOUT: "timeouts",
    CONNECTION: "connection errors",
    BAD_BODY: "broken bodies",
    RATE_LIMITED: "rate limited",
    PAGINATION: "inconsistent pages",
}


class AuthenticationFailed(Exception):
    """The API refused our credentials; the run cannot go on."""


class ApiUnavailable(Exception):
    """The API cannot be reached at all, or stopped answering: the run cannot go on."""


class ApiCallFailed(Exception):
    """A call that ended without a usable answer, or with the vendor's error answer.

    `answered` tells the two apart: a vendor error answer is data about the request
    (an `extract_errors` row); anything else is a failure of the call.
    """

    def __init__(
        self,
        path: str,
        message: str,
        *,
        kind: str,
        http_status: int | None = None,
        error_code: str | None = None,
        attempts: int = 1,
        body: bytes | None = None,
    ) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.kind = kind
        self.http_status = http_status
        self.error_code = error_code
        self.attempts = attempts
        self.body = body

    @property
    def answered(self) -> bool:
        return self.kind == VENDOR_ANSWER


class RetryableError(Exception):
    """One attempt failed in a way another attempt may fix (5xx, transport, bad body)."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        http_status: int | None = None,
        error_code: str | None = None,
        body: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.http_status = http_status
        self.error_code = error_code
        self.body = body
