"""The calls of the Badges API the extraction makes: paths, list types, lookup header."""

from __future__ import annotations

LIST_TYPES = ("AVAILABLE_TO_ISSUE", "AVAILABLE", "EARNED", "EXPIRED")
META_PATH = "/api_gateway/v1/badges/badgeMeta/{badge}"
LIST_PATH = "/api_gateway/v1/badges/customer/{customer}"
DETAIL_PATH = "/api_gateway/v1/badges/management/{customer}/badge/{badge}"
IDENTIFIER_HEADER = "X-CAP-CUSTOMER-IDENTIFIER"


def identifier_headers(identifier_type: str | None) -> dict[str, str]:
    """The lookup header for a customer not identified by id (none for an id)."""
    if identifier_type in (None, "id"):
        return {}
    return {IDENTIFIER_HEADER: identifier_type}
