"""Which customers' lists a night fetches, when a full pull would not fit the night.

With rotation over N nights, a night fetches

- every customer of the active-customers file (activity since the last run),
- every customer whose data is N nights old or older,
- and the customers whose slot, `crc32("customer|identifier") % N`, equals
  `date.toordinal() % N`: about 1/N of the others, so that none waits longer than N.
  A customer never fetched waits for its slot too, so that a large org's first load is
  spread over N nights like every later one.

N = 1 fetches everyone, every night. The customers not fetched keep the rows of the last
snapshot, with the `fetched_on` of the night they were fetched. Each archive records its
night (see `pipelines.lake.nightrecord`), which the next night reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from pipelines.lake.keys import CustomerKey, CustomerRef
from pipelines.lake.nightrecord import read_population, write_population
from pipelines.lake.raw import archived_customers


def customer_slot(customer: CustomerRef, nights: int) -> int:
    return zlib.crc32(f"{customer.customer_id}|{customer.identifier_type}".encode()) % nights


def population_of(
    customers: Iterable[CustomerRef], active: Iterable[CustomerRef]
) -> list[CustomerRef]:
    """The customers file, plus any active customer it does not list yet."""
    population = list(dict.fromkeys(customers))
    known = set(population)
    population += [c for c in dict.fromkeys(active) if c not in known]
    return population


def last_fetched(raw_dir: Path | None, snapshot_date: dt.date | None) -> dict[CustomerKey, dt.date]:
    """When each customer's lists were last fetched, per an archive's night file (an archive
    without one fetched every customer it holds a list of, on its own date)."""
    if raw_dir is None or snapshot_date is None:
        return {}
    recorded = read_population(raw_dir)
    if recorded is not None:
        return recorded
    return dict.fromkeys(archived_customers(raw_dir), snapshot_date)


@dataclass
class Rotation:
    """Tonight's customers: who is fetched, and since when the others were not."""

    snapshot_date: dt.date
    nights: int
    population: list[CustomerRef]
    fetch: list[CustomerRef]
    last_fetched: dict[CustomerKey, dt.date] = field(default_factory=dict)

    @property
    def carried(self) -> int:
        return len(self.population) - len(self.fetch)

    def without(self, keys: set[CustomerKey]) -> Rotation:
        """The night as it went: customers whose lists got no answer were not fetched."""
        return dataclasses.replace(self, fetch=[c for c in self.fetch if c.key not in keys])

    def fetched_on(self) -> dict[CustomerKey, dt.date]:
        """Each customer's `fetched_on` tonight: the snapshot date for those fetched, the
        night of their last fetch for the others (none for one never fetched)."""
        dates = {
            c.key: self.last_fetched[c.key] for c in self.population if c.key in self.last_fetched
        }
        dates.update((c.key, self.snapshot_date) for c in self.fetch)
        return dates

    def oldest_fetched_on(self) -> dt.date:
        return min(self.fetched_on().values(), default=self.snapshot_date)

    def write(self, directory: Path) -> pa.Table:
        """Records the population with each customer's `fetched_on` in the archive; returns
        it as written (customer_id, identifier_type, fetched_on, fetched_tonight)."""
        dates = self.fetched_on()
        tonight = {c.key for c in self.fetch}
        keys = [c.key for c in self.population]
        return write_population(
            directory, [(*key, dates[key], key in tonight) for key in keys if key in dates]
        )


def rotate(
    snapshot_date: dt.date,
    nights: int,
    population: list[CustomerRef],
    active: Iterable[CustomerRef],
    last_fetched_on: dict[CustomerKey, dt.date],
) -> Rotation:
    """Tonight's customers under rotation over `nights` nights."""
    if nights < 1:
        raise ValueError(f"rotation nights must be at least 1, got {nights}")
    active_set = set(active)
    slot = snapshot_date.toordinal() % nights

    def due(customer: CustomerRef) -> bool:
        last = last_fetched_on.get(customer.key)
        return (
            nights == 1
            or customer in active_set
            or (last is not None and (snapshot_date - last).days >= nights)
            or customer_slot(customer, nights) == slot
        )

    fetch = [c for c in population if due(c)]
    return Rotation(snapshot_date, nights, population, fetch, last_fetched_on)
