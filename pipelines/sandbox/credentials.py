"""Sandbox credentials and the two vendor auth schemes: Basic (md5 password) and OAuth token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

MAX_CACHED_HEADERS = 256


@dataclass(frozen=True)
class SandboxCredentials:
    username: str = "sandbox"
    password: str = "sandbox-password"
    client_key: str = "sandbox-key"
    client_secret: str = "sandbox-secret"
    token_ttl_seconds: float = 300.0

    @classmethod
    def random(cls) -> SandboxCredentials:
        """Fresh random secrets (the username stays readable)."""
        return cls(
            username=f"sandbox-{secrets.token_hex(4)}",
            password=secrets.token_urlsafe(18),
            client_key=secrets.token_urlsafe(12),
            client_secret=secrets.token_urlsafe(24),
        )

    def __repr__(self) -> str:  # never print secrets
        return f"SandboxCredentials(username={self.username!r}, ...)"


def basic_header(username: str, password: str) -> str:
    """The vendor's Basic header value: base64(username:md5hex(password))."""
    digest = hashlib.md5(password.encode()).hexdigest()
    return "Basic " + base64.b64encode(f"{username}:{digest}".encode()).decode()


class Authenticator:
    """Checks a request's auth headers; holds the issued OAuth tokens."""

    def __init__(self, credentials: SandboxCredentials) -> None:
        self.credentials = credentials
        self._expected_basic = basic_header(credentials.username, credentials.password).encode()
        self._basic_verdicts: dict[bytes, bool] = {}
        self._token_expiry: dict[str, float] = {}
        self.revoked = False

    def revoke(self) -> None:
        """The credentials stop working, as when an admin rotates them: every request and
        token call is refused from now on, tokens already issued included."""
        self.revoked = True

    def issue_token(self, key: object, secret: object) -> str | None:
        """A new access token for the right client key and secret, else None."""
        c = self.credentials
        if self.revoked or not isinstance(key, str) or not isinstance(secret, str):
            return None
        key_ok = hmac.compare_digest(key.encode(), c.client_key.encode())
        secret_ok = hmac.compare_digest(secret.encode(), c.client_secret.encode())
        if not (key_ok and secret_ok):
            return None
        token = secrets.token_urlsafe(32)
        self._token_expiry[token] = time.monotonic() + c.token_ttl_seconds
        return token

    def failure(self, authorization: bytes | None, oauth_token: bytes | None) -> str | None:
        """None when the request is authenticated, else the reason (without any secret)."""
        if self.revoked:
            return "authentication failed: credentials revoked"
        if oauth_token is not None:
            expiry = self._token_expiry.get(oauth_token.decode("latin-1"))
            if expiry is None:
                return "authentication failed: unknown token"
            if time.monotonic() >= expiry:
                return "authentication failed: token expired"
            return None
        if authorization is None:
            return "authentication failed: no credentials"
        if not self._basic_ok(authorization):
            return "authentication failed"
        return None

    def _basic_ok(self, authorization: bytes) -> bool:
        verdict = self._basic_verdicts.get(authorization)
        if verdict is None:
            scheme, _, value = authorization.partition(b" ")
            expected_value = self._expected_basic.partition(b" ")[2]
            verdict = scheme.lower() == b"basic" and hmac.compare_digest(
                value.strip(), expected_value
            )
            if len(self._basic_verdicts) >= MAX_CACHED_HEADERS:
                self._basic_verdicts.clear()
            self._basic_verdicts[authorization] = verdict
        return verdict
