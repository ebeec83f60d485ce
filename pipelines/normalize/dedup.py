"""The keys a snapshot's rows are deduplicated on, and their 16-byte digests.

The extractor can repeat a key (a badge fetched twice, a list entry shifted across
pages, a detail fetched again on a resume); the normalizer keeps the first row of each
key and remembers only its digest.
"""

from __future__ import annotations

from collections.abc import Callable
from hashlib import blake2b
from operator import itemgetter
from typing import Any

from pipelines.lake.tables import (
    BADGE_EARNS,
    BADGE_ISSUALS,
    BADGES,
    CUSTOMER_BADGE_DETAILS,
    CUSTOMER_BADGES,
)

# Rows whose key was already seen in the snapshot are dropped (first one wins).
DEDUP_KEYS: dict[str, tuple[str, ...]] = {
    BADGES.name: ("badge_id",),
    CUSTOMER_BADGES.name: ("customer_id", "identifier_type", "list_type", "badge_id"),
    CUSTOMER_BADGE_DETAILS.name: ("customer_id", "identifier_type", "badge_id"),
    BADGE_ISSUALS.name: ("issue_id",),
    BADGE_EARNS.name: ("earn_id",),
}


def _key_digest(parts: tuple[Any, ...]) -> bytes:
    try:
        joined = "\x1f".join(parts)  # the common case, every part a string: the same text
    except TypeError:
        joined = "\x1f".join(["\x00" if part is None else str(part) for part in parts])
    return blake2b(joined.encode(), digest_size=16).digest()


def _row_digest(columns: tuple[str, ...]) -> Callable[[dict[str, Any]], bytes]:
    """`_key_digest` of a row's key columns, specialized for a one-column key."""
    if len(columns) > 1:
        key_parts = itemgetter(*columns)
        return lambda row: _key_digest(key_parts(row))
    (column,) = columns

    def one_column_digest(row: dict[str, Any]) -> bytes:
        value = row[column]
        return blake2b(("\x00" if value is None else str(value)).encode(), digest_size=16).digest()

    return one_column_digest


DIGEST_OF_TABLE = {name: _row_digest(columns) for name, columns in DEDUP_KEYS.items()}
