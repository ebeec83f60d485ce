"""The error the sandbox answers with: an HTTP status plus the vendor's error code."""

from __future__ import annotations


class SandboxApiError(Exception):
    """A vendor-style error; the app renders it as the error envelope with `status`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
