"""Key volumes of a snapshot, and the check that they did not collapse since the last publish.

A snapshot may not lose more than `max_drop_share` of its customers, customer-badge
pairs, badges or earns against the published one unless the run is told to accept it:
an export cut short, a customers file half empty or an API answering empty lists would
otherwise replace the analysts' warehouse with a fraction of it. The same SQL counts the
new snapshot's Parquet and the published warehouse's tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.lake.sql import parquet_source

DEFAULT_MAX_DROP_SHARE = 0.2
VOLUME_CHECK = "volume_against_published"
METRICS = {
    "customers": "SELECT count(DISTINCT (customer_id, identifier_type)) FROM {customer_badges}",
    "customer-badge pairs": (
        "SELECT count(DISTINCT (customer_id, identifier_type, badge_id)) FROM {customer_badges}"
    ),
    "badges": "SELECT count(*) FROM {badges}",
    "earns": "SELECT count(*) FROM {badge_earns}",
}
TABLES_READ = ("customer_badges", "badges", "badge_earns")
_EMPTY = "(SELECT NULL AS customer_id, NULL AS identifier_type, NULL AS badge_id WHERE false)"


def _count(con: duckdb.DuckDBPyConnection, sources: Mapping[str, str]) -> dict[str, int]:
    return {name: con.execute(sql.format(**sources)).fetchone()[0] for name, sql in METRICS.items()}


def volume_of_files(files: Mapping[str, list[Path]]) -> dict[str, int]:
    """The volumes of a snapshot's Parquet (a table without files counts 0 rows)."""
    sources = {t: parquet_source(files[t]) if files.get(t) else _EMPTY for t in TABLES_READ}
    with duckdb.connect() as con:
        return _count(con, sources)


def volume_of_warehouse(database: Path) -> dict[str, int] | None:
    """The volumes of the published warehouse, or None when nothing is published."""
    if not database.exists():
        return None
    with duckdb.connect(str(database), read_only=True) as con:
        return _count(con, {table: f"main.{table}" for table in TABLES_READ})


@dataclass(frozen=True)
class VolumeCheck:
    passed: bool
    description: str
    metadata: dict[str, object] = field(default_factory=dict)


def check_volume(
    new: Mapping[str, int],
    published: Mapping[str, int] | None,
    max_drop_share: float = DEFAULT_MAX_DROP_SHARE,
    accept_drop: bool = False,
) -> VolumeCheck:
    """Whether `new` keeps at least (1 - max_drop_share) of every published volume."""
    if published is None:
        return VolumeCheck(True, "first snapshot: nothing published to compare with", dict(new))
    drops = {
        name: f"{name} {new[name]:,} (published {published[name]:,}, "
        f"-{1 - new[name] / published[name]:.0%})"
        for name in METRICS
        if published[name] and new[name] < published[name] * (1 - max_drop_share)
    }
    metadata: dict[str, object] = {
        **{f"new {name}": new[name] for name in METRICS},
        **{f"published {name}": published[name] for name in METRICS},
        "max_drop_share": max_drop_share,
    }
    if not drops:
        return VolumeCheck(True, f"no volume fell more than {max_drop_share:.0%}", metadata)
    what = "; ".join(drops.values())
    if accept_drop:
        return VolumeCheck(True, f"drop accepted (--accept-drop): {what}", metadata)
    return VolumeCheck(
        False,
        f"volume collapsed against the published snapshot, more than the allowed "
        f"{max_drop_share:.0%}: {what}. If this is expected, run again with --accept-drop.",
        metadata,
    )
