"""Helpers shared by the normalizer tests: spec fixtures and hand-written expected instants."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson

FIXTURES = Path(__file__).resolve().parents[2] / "pipelines" / "sandbox" / "vendor_examples"
SNAPSHOT = dt.date(2026, 2, 1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def example(name: str) -> dict[str, Any]:
    """The parsed vendor example `pipelines/sandbox/vendor_examples/<name>.json`."""
    return orjson.loads((FIXTURES / f"{name}.json").read_bytes())


def utc(text: str) -> int:
    """Microseconds since the epoch of a UTC time written 'YYYY-MM-DD HH:MM:SS[.ffffff]'."""
    moment = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def pick(rows: list[dict[str, Any]], *columns: str) -> list[tuple[Any, ...]]:
    """The given columns of each row, as tuples in row order."""
    return [tuple(row[column] for column in columns) for row in rows]


CONSTRAINT = (
    "constraint_level",
    "constraint_kind",
    "window_unit",
    "window_length",
    "max_earn_limit",
    "raw_constraint_type",
)
