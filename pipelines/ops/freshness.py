"""The published snapshot, read from `main.snapshot_info`, and when it counts as stale.

The warehouse is opened read-only, exactly as an analyst would: it never blocks a publish.
A snapshot is stale once `loaded_at` is older than `BADGES_STALE_AFTER_HOURS` (default 26:
a night's 24 hours plus slack for a slow or retried run). The freshness sensor alerts once
per stale episode: its cursor remembers which snapshot it already reported.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.ops.alerts import ui_url

STALE_AFTER_VARIABLE = "BADGES_STALE_AFTER_HOURS"
DEFAULT_STALE_AFTER_HOURS = 26.0
NOTHING_PUBLISHED = "nothing-published"


class WarehouseUnreadable(RuntimeError):
    """The warehouse file exists but cannot be read (held read-write elsewhere, or damaged)."""


@dataclass(frozen=True)
class PublishedSnapshot:
    path: Path
    columns: dict[str, Any]  # every column of main.snapshot_info, in the table's order

    @property
    def snapshot_date(self) -> dt.date:
        return self.columns["snapshot_date"]

    @property
    def loaded_at(self) -> dt.datetime:
        return self.columns["loaded_at"].astimezone(dt.UTC)

    def age(self, now: dt.datetime) -> dt.timedelta:
        return now - self.loaded_at


def read_published(warehouse: Path) -> PublishedSnapshot | None:
    """The row of `main.snapshot_info`, or None when nothing is published there."""
    if not warehouse.exists():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            found = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                "AND schema_name = 'main' AND table_name = 'snapshot_info'"
            ).fetchone()
            if not found or not found[0]:
                return None
            cursor = con.execute("SELECT * FROM main.snapshot_info ORDER BY snapshot_date DESC")
            row = cursor.fetchone()
            names = [d[0] for d in cursor.description]
    except duckdb.Error as error:
        raise WarehouseUnreadable(f"cannot read {warehouse}: {error}") from None
    return PublishedSnapshot(warehouse, dict(zip(names, row, strict=True))) if row else None


def stale_after_hours(environ: Mapping[str, str] = os.environ) -> float:
    value = environ.get(STALE_AFTER_VARIABLE, "").strip()
    if not value:
        return DEFAULT_STALE_AFTER_HOURS
    try:
        hours = float(value)
    except ValueError:
        hours = -1.0
    if hours <= 0:
        raise ValueError(
            f"{STALE_AFTER_VARIABLE} must be a positive number of hours, not {value!r}"
        )
    return hours


def is_stale(published: PublishedSnapshot | None, now: dt.datetime, hours: float) -> bool:
    return published is None or published.age(now) > dt.timedelta(hours=hours)


def describe_age(age: dt.timedelta) -> str:
    """`12 min`, `30 h 5 min` (hours up to two days: staleness is judged there), `3 d 4 h`."""
    hours, minutes = divmod(max(0, int(age.total_seconds() // 60)), 60)
    if hours >= 48:
        return f"{hours // 24} d {hours % 24} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def stale_text(
    warehouse: Path, published: PublishedSnapshot | None, now: dt.datetime, hours: float
) -> str:
    if published is None:
        head = f"badges: warehouse is stale: no snapshot is published in {warehouse}"
    else:
        head = (
            f"badges: warehouse is stale: the published snapshot {published.snapshot_date} was "
            f"loaded {published.loaded_at:%Y-%m-%d %H:%M} UTC, {describe_age(published.age(now))} "
            f"ago (limit {hours:g} h)"
        )
    return f"{head}\nruns: {ui_url()}/runs"


def fresh_again_text(published: PublishedSnapshot, now: dt.datetime) -> str:
    return (
        f"badges: warehouse is fresh again: snapshot {published.snapshot_date} loaded "
        f"{describe_age(published.age(now))} ago"
    )


@dataclass(frozen=True)
class FreshnessDecision:
    alert: str | None  # what to post, if anything
    cursor: str  # what the sensor remembers until its next tick
    summary: str  # one line for the tick's log


def freshness_decision(
    warehouse: Path,
    published: PublishedSnapshot | None,
    cursor: str | None,
    now: dt.datetime,
    hours: float,
) -> FreshnessDecision:
    """Alert once when a stale episode starts, once when it ends, and stay quiet in between."""
    if is_stale(published, now, hours):
        episode = "stale:" + (published.loaded_at.isoformat() if published else NOTHING_PUBLISHED)
        text = stale_text(warehouse, published, now, hours)
        summary = text.splitlines()[0]
        if cursor == episode:
            return FreshnessDecision(None, episode, summary + " (already alerted)")
        return FreshnessDecision(text, episode, summary)
    assert published is not None
    summary = f"snapshot {published.snapshot_date} is {describe_age(published.age(now))} old"
    if cursor is not None and cursor.startswith("stale:"):
        return FreshnessDecision(fresh_again_text(published, now), "fresh", summary)
    return FreshnessDecision(None, "fresh", summary)
