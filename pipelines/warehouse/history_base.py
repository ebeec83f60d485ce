"""The history base: the history as of the newest night local retention pruned.

Before a night's raw archive and lake partitions are pruned, the history base is rolled
forward over them, so that a history rebuild, which can no longer read them, starts from
it and applies the nights the lake still holds (`history.rebuild_history`).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.lake import Lake
from pipelines.lake.dbfiles import install_database, remove_database
from pipelines.lake.engine import connect
from pipelines.warehouse.history import APPLIED, rebuild_history

BUILDING_NAME = "history_base.building.duckdb"


def history_base_through(lake: Lake) -> dt.date | None:
    """The last snapshot the history base holds; None when there is no base."""
    if not lake.history_base_path.exists():
        return None
    with duckdb.connect(str(lake.history_base_path), read_only=True) as con:
        return con.execute(f"SELECT max(snapshot_date) FROM {APPLIED}").fetchone()[0]


def roll_history_base(lake: Lake, through: dt.date) -> None:
    """Makes the history base the history of every snapshot up to `through`; the snapshots
    up to `through` may be pruned afterwards. A base already that far is left as it is."""
    current = history_base_through(lake)
    if current is not None and current >= through:
        return
    building = lake.staging_dir / BUILDING_NAME
    remove_database(building)
    building.parent.mkdir(parents=True, exist_ok=True)
    try:
        with connect(lake, building) as con:
            rebuild_history(con, lake, through)
        install_database(building, lake.history_base_path)
    finally:
        remove_database(building)
