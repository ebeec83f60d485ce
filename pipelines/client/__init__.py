"""Async client for the Capillary Badges API: auth, retries, rate limiting, pagination."""

from pipelines.client.errors import ApiCallFailed, ApiUnavailable, AuthenticationFailed
from pipelines.client.http import ApiClient, ApiResponse
from pipelines.client.settings import ApiSettings

__all__ = [
    "ApiCallFailed",
    "ApiClient",
    "ApiResponse",
    "ApiSettings",
    "ApiUnavailable",
    "AuthenticationFailed",
]
