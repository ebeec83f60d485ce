"""Failures the client reports. Messages name the call, never a credential."""

from __future__ import annotations


class AuthenticationFailed(Exception):
    """The API refused our credentials; the run cannot go on."""


class ApiCallFailed(Exception):
    """A call that failed for good: retries exhausted or an error that retrying cannot fix."""

    def __init__(
        self,
        path: str,
        message: str,
        *,
        http_status: int | None = None,
        error_code: str | None = None,
        attempts: int = 1,
        body: bytes | None = None,
    ) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.http_status = http_status
        self.error_code = error_code
        self.attempts = attempts
        self.body = body


class RetryableError(Exception):
    """One attempt failed in a way another attempt may fix (429, 5xx, transport, bad body)."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        error_code: str | None = None,
        retry_after: float | None = None,
        body: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.error_code = error_code
        self.retry_after = retry_after
        self.body = body
