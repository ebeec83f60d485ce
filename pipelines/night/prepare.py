"""Preparing a night: what the last snapshot tells, tonight's plan, what the night resumes.

Everything here reads the lake (the last snapshot's archive and tables) and tonight's
checkpoint, and leaves the deciding to the pure `planner`; nothing calls the API, so
`badges plan` shows the same plan a run starts with. A run's preparation also gives back
what crashed nights left and checks the free space against the night's estimated
writes, so a short disk refuses the night before any call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.client.rates import Rate
from pipelines.extract.incremental import (
    DetailPlan,
    PreviousSnapshot,
    known_details,
    previous_snapshot,
)
from pipelines.extract.planning import NightPlan, remembered_at
from pipelines.extract.resume import Resumed, open_checkpoint
from pipelines.extract.rotation import Rotation, last_fetched
from pipelines.lake import Lake
from pipelines.lake.keys import CustomerKey
from pipelines.lake.leftovers import give_back_leftovers
from pipelines.lake.nightrecord import read_night_note
from pipelines.lake.space import DiskNeed, directory_bytes, ensure_space, estimate_need
from pipelines.lake.sql import parquet_source
from pipelines.lake.tables import CUSTOMER_BADGES
from pipelines.night.options import NightOptions
from pipelines.night.planner import LastNight, Population, estimate_night, plan


@dataclass
class PreparedNight:
    snapshot_date: dt.date
    lake: Lake
    previous: PreviousSnapshot | None
    rotation: Rotation
    details: DetailPlan
    resumed: Resumed
    plan: NightPlan
    carried_badges: list[str] = field(default_factory=list)  # listed only by carried customers
    disk: DiskNeed | None = None  # what the night writes before it swaps it in
    host: str = ""  # the API's host, whose limits the night remembers
    limits: dict[str, dict[str, str]] = field(default_factory=dict)  # last night's, per host

    @property
    def building_dir(self) -> Path:
        return self.lake.building_dir(self.snapshot_date)

    @property
    def remembered_limits(self) -> dict[str, Rate]:
        """Per API, the limit measured at tonight's host on an earlier night."""
        return remembered_at(self.limits, self.host)

    def limits_after(self, measured: dict[str, Rate]) -> dict[str, dict[str, str]]:
        """Every host's limits, with those measured tonight at tonight's host."""
        tonight = {api: str(rate) for api, rate in measured.items()}
        return {**self.limits, self.host: {**self.limits.get(self.host, {}), **tonight}}


def prepare_night(
    lake: Lake, population: Population, options: NightOptions, read_only: bool = False
) -> PreparedNight:
    """Tonight's customers and plan; `read_only` leaves the checkpoint as it is. Otherwise
    what crashed nights left is given back first, and a disk too full for the night raises
    NotEnoughSpace before anything else is written."""
    if not read_only:
        give_back_leftovers(lake)
    snapshot_date = population.snapshot_date
    last = read_last_night(lake, snapshot_date, population.page_size)
    tonight = plan(last, population, options)
    disk = _disk_need(lake, snapshot_date, tonight.rotation)
    if not read_only:
        ensure_space(lake, disk)
    carried_badges = _carried_badges(lake, last.previous, tonight.rotation, tonight.scope)
    building_dir = lake.building_dir(snapshot_date)
    resumed = (
        Resumed()
        if read_only
        else open_checkpoint(building_dir, population.base_url, tonight.scope, options.restart)
    )
    return PreparedNight(
        snapshot_date,
        lake,
        last.previous,
        tonight.rotation,
        tonight.details,
        resumed,
        estimate_night(tonight, last, resumed, options),
        carried_badges,
        disk,
        population.host,
        last.limits,
    )


def read_last_night(lake: Lake, snapshot_date: dt.date, page_size: int) -> LastNight:
    """What the latest archived snapshot up to `snapshot_date` tells the plan."""
    previous = previous_snapshot(lake, snapshot_date)
    if previous is None:
        return LastNight()
    extra_pages, badges = _last_lists(lake, previous.snapshot_date, page_size)
    return LastNight(
        previous,
        read_night_note(previous.raw_dir),
        last_fetched(previous.raw_dir, previous.snapshot_date),
        extra_pages,
        badges,
        known_details(previous),
        frozenset(lake.raw_dates()),
    )


def _last_lists(
    lake: Lake, last_date: dt.date, page_size: int
) -> tuple[dict[CustomerKey, int], int | None]:
    """Pages beyond one per list of each customer, and the badges listed, last night."""
    files = lake.table_files(CUSTOMER_BADGES.name, last_date)
    if not files:
        return {}, None
    source = parquet_source(files)
    with duckdb.connect() as con:
        rows = con.execute(
            f"""SELECT customer_id, identifier_type,
                       sum(greatest(ceil(n / {page_size}), 1) - 1)::BIGINT AS extra
                FROM (SELECT customer_id, identifier_type, list_type, count(*) AS n
                      FROM {source} GROUP BY ALL)
                GROUP BY ALL HAVING extra > 0"""
        ).fetchall()
        badges = con.execute(f"SELECT count(DISTINCT badge_id) FROM {source}").fetchone()[0]
    return {(c, i): extra for c, i, extra in rows}, badges


def _disk_need(lake: Lake, snapshot_date: dt.date, rotation: Rotation) -> DiskNeed | None:
    """The night's need, less what an earlier attempt already checkpointed."""
    need = estimate_need(lake, len(rotation.population), len(rotation.fetch))
    if need is None:
        return None
    checkpointed = directory_bytes(lake.building_dir(snapshot_date))
    return replace(need, raw=max(need.raw - checkpointed, 0))


def _carried_badges(
    lake: Lake, previous: PreviousSnapshot | None, rotation: Rotation, fetched: set[CustomerKey]
) -> list[str]:
    """Badges in the carried customers' lists: their meta is fetched tonight too, so every
    listed badge of the snapshot is described."""
    if previous is None or not rotation.carried:
        return []
    files = lake.table_files(CUSTOMER_BADGES.name, previous.snapshot_date)
    if not files:
        return []
    carried = [c for c in rotation.population if c.key not in fetched]
    carried_table = pa.table(
        {
            "customer_id": [c.customer_id for c in carried],
            "identifier_type": [c.identifier_type for c in carried],
        }
    )
    with duckdb.connect() as con:
        con.register("carried", carried_table)
        rows = con.execute(
            f"SELECT DISTINCT badge_id FROM {parquet_source(files)} "
            "SEMI JOIN carried USING (customer_id, identifier_type) ORDER BY badge_id"
        ).fetchall()
    return [badge_id for (badge_id,) in rows if badge_id is not None]
