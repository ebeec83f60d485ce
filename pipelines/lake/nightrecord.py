"""What a snapshot's archive records about its night, beside the raw responses (`_state/`).

- `night.parquet`: every customer of the night's population with `fetched_on`, the night
  its lists were last fetched, and whether that was tonight (the others are carried
  forward; on a rerun of the same day, their last fetch may be today too);
- `night.json`: the rotation, the snapshot the carried rows come from, and the night's
  figures (calls, failures, rates found or achieved), which the next night plans with,
  and the limits measured per API host, which the next night's client starts at;
- `detail_fingerprints.parquet`: every customer-badge pair's fingerprint and the night
  its detail was fetched, which the next night's reuse decisions read;
- `normalized.json`: that the run which built the archive normalized it while
  extracting, so its normalize step has nothing left to do (written once every lake
  partition of the night is in place, so it also says they are complete).

Replaying an archive reads them to carry the same customers forward again.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.lake.damage import reading
from pipelines.lake.durable import write_parquet, write_text
from pipelines.lake.keys import CustomerKey, PairKey

STATE_DIR = Path("_state")
POPULATION_FILE = STATE_DIR / "night.parquet"
NOTE_FILE = STATE_DIR / "night.json"
FINGERPRINTS_FILE = STATE_DIR / "detail_fingerprints.parquet"
NORMALIZED_FILE = STATE_DIR / "normalized.json"

POPULATION_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("identifier_type", pa.string()),
        ("fetched_on", pa.date32()),
        ("fetched_tonight", pa.bool_()),
    ]
)
FINGERPRINT_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("identifier_type", pa.string()),
        ("badge_id", pa.string()),
        ("fingerprint", pa.string()),
        ("fetched_on", pa.date32()),
    ]
)


@dataclass
class NightNote:
    snapshot_date: str
    rotation_nights: int = 1
    carried_from: str | None = None  # snapshot the carried customers' rows come from
    customers: int = 0
    customers_fetched: int = 0
    oldest_fetched_on: str | None = None
    calls: dict[str, int] = field(default_factory=dict)
    failed_calls: int = 0
    found_rates: dict[str, float] = field(default_factory=dict)  # API -> requests/s
    # host -> API -> each API's limit as last measured at that host, as the vendor
    # states limits (`40/5.02s`: a window's count and its length)
    limits: dict[str, dict[str, str]] = field(default_factory=dict)
    pairs_reusable: int = 0  # pairs that could have been reused (known, not due)
    pairs_changed: int = 0  # of those, fetched because their fingerprint changed
    # Names this sealing of the night: the warehouse records the one it loaded, so a
    # rerun tells a sealed night never published from one already published.
    night_id: str | None = None

    @property
    def carried(self) -> int:
        return self.customers - self.customers_fetched

    @property
    def changed_share(self) -> float:
        return self.pairs_changed / self.pairs_reusable if self.pairs_reusable else 0.0

    def write(self, raw_dir: Path) -> None:
        write_text(json.dumps(asdict(self), indent=1, sort_keys=True), raw_dir / NOTE_FILE)


def read_night_note(raw_dir: Path) -> NightNote | None:
    note = _read_json(raw_dir / NOTE_FILE)
    return None if note is None else NightNote(**note)


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    with reading(path):
        return json.loads(path.read_text())


def write_population(raw_dir: Path, rows: list[tuple[str, str, dt.date, bool]]) -> pa.Table:
    """The night's population with each customer's `fetched_on`; returns it as written."""
    columns = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
    table = pa.table(columns, schema=POPULATION_SCHEMA)
    write_parquet(table, raw_dir / POPULATION_FILE, POPULATION_SCHEMA)
    return table


def read_population(raw_dir: Path) -> dict[CustomerKey, dt.date] | None:
    """Customer -> the night its lists were last fetched, or None without a night file."""
    path = raw_dir / POPULATION_FILE
    if not path.exists():
        return None
    with reading(path):
        table = pq.read_table(path, columns=["customer_id", "identifier_type", "fetched_on"])
    ids, types, dates = (table.column(n).to_pylist() for n in table.column_names)
    return dict(zip(zip(ids, types, strict=True), dates, strict=True))


def carried_customers(raw_dir: Path) -> pa.Table:
    """The customers an archived night carried forward (customer_id, identifier_type)."""
    with reading(raw_dir / POPULATION_FILE):
        table = pq.read_table(raw_dir / POPULATION_FILE, schema=POPULATION_SCHEMA)
    return not_fetched_tonight(table)


def not_fetched_tonight(population: pa.Table) -> pa.Table:
    unfetched = population.filter(pc.invert(population.column("fetched_tonight")))
    return unfetched.select(["customer_id", "identifier_type"])


def has_fingerprints(raw_dir: Path) -> bool:
    return (raw_dir / FINGERPRINTS_FILE).exists()


def read_fingerprints(raw_dir: Path) -> dict[PairKey, tuple[str, dt.date]]:
    """Pair -> (fingerprint, the night its detail was fetched)."""
    with reading(raw_dir / FINGERPRINTS_FILE):
        table = pq.read_table(raw_dir / FINGERPRINTS_FILE, schema=FINGERPRINT_SCHEMA)
    customer_id, identifier_type, badge_id, print_, fetched_on = (
        table.column(name).to_pylist() for name in FINGERPRINT_SCHEMA.names
    )
    keys = zip(customer_id, identifier_type, badge_id, strict=True)
    return dict(zip(keys, zip(print_, fetched_on, strict=True), strict=True))


def fingerprint_nights(raw_dir: Path) -> set[dt.date]:
    """The nights the details of an archived snapshot's pairs were fetched (reuse sources)."""
    if not has_fingerprints(raw_dir):
        return set()
    table = pq.read_table(raw_dir / FINGERPRINTS_FILE, columns=["fetched_on"])
    return set(pc.unique(table.column("fetched_on")).to_pylist())


def write_fingerprints(raw_dir: Path, rows: pa.Table | pa.RecordBatchReader) -> int:
    return write_parquet(rows, raw_dir / FINGERPRINTS_FILE, FINGERPRINT_SCHEMA)


def write_normalized_note(raw_dir: Path, run_id: str, report: dict[str, Any]) -> None:
    write_text(json.dumps({"run_id": run_id, **report}, indent=1), raw_dir / NORMALIZED_FILE)


def read_normalized_note(raw_dir: Path, run_id: str | None) -> dict[str, Any] | None:
    """What `write_normalized_note` wrote, when the run `run_id` wrote it (any run's with
    None); else None."""
    note = _read_json(raw_dir / NORMALIZED_FILE)
    if note is None:
        return None
    written_by = note.pop("run_id", None)
    return note if run_id is None or written_by == run_id else None
