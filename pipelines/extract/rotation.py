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

import pyarrow.parquet as pq

from pipelines.extract.customers import CustomerRef
from pipelines.lake.nightrecord import CustomerKey, read_population, write_population


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
    table = pq.read_table(raw_dir, columns=["customer_id", "identifier_type"])
    keys = zip(*(table.column(n).to_pylist() for n in table.column_names), strict=True)
    return {key: snapshot_date for key in keys if key[0] is not None}


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
        return dataclasses.replace(self, fetch=[c for c in self.fetch if _key(c) not in keys])

    def fetched_on(self) -> dict[CustomerKey, dt.date]:
        """Each customer's `fetched_on` tonight: the snapshot date for those fetched, the
        night of their last fetch for the others (none for one never fetched)."""
        dates = {
            _key(c): self.last_fetched[_key(c)]
            for c in self.population
            if _key(c) in self.last_fetched
        }
        dates.update((_key(c), self.snapshot_date) for c in self.fetch)
        return dates

    def oldest_fetched_on(self) -> dt.date:
        return min(self.fetched_on().values(), default=self.snapshot_date)

    def write(self, directory: Path) -> Path:
        """Records the population with each customer's `fetched_on` in the archive."""
        dates = self.fetched_on()
        tonight = {_key(c) for c in self.fetch}
        rows = [
            (*key, dates[key], key in tonight) for key in map(_key, self.population) if key in dates
        ]
        return write_population(directory, rows)


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
        last = last_fetched_on.get(_key(customer))
        return (
            nights == 1
            or customer in active_set
            or (last is not None and (snapshot_date - last).days >= nights)
            or customer_slot(customer, nights) == slot
        )

    fetch = [c for c in population if due(c)]
    return Rotation(snapshot_date, nights, population, fetch, last_fetched_on)


def _key(customer: CustomerRef) -> CustomerKey:
    return (customer.customer_id, customer.identifier_type)
