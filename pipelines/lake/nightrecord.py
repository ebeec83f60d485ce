"""What a snapshot's archive records about its night, beside the raw responses.

- `_state/night.parquet`: every customer of the night's population with `fetched_on`,
  the night its lists were last fetched, and whether that was tonight (the others are
  carried forward; on a rerun of the same day, their last fetch may be today too);
- `_state/night.json`: the rotation, the snapshot the carried rows come from, and the
  night's figures (calls, failures, rates found), which the next night plans with.

Replaying an archive reads them to carry the same customers forward again.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

NIGHT_FILE = Path("_state") / "night.parquet"
NIGHT_NOTE = Path("_state") / "night.json"
NIGHT_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("identifier_type", pa.string()),
        ("fetched_on", pa.date32()),
        ("fetched_tonight", pa.bool_()),
    ]
)
CustomerKey = tuple[str, str]


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
    pairs_reusable: int = 0  # pairs that could have been reused (known, not due)
    pairs_changed: int = 0  # of those, fetched because their fingerprint changed

    @property
    def carried(self) -> int:
        return self.customers - self.customers_fetched

    @property
    def changed_share(self) -> float:
        return self.pairs_changed / self.pairs_reusable if self.pairs_reusable else 0.0

    def write(self, raw_dir: Path) -> None:
        path = raw_dir / NIGHT_NOTE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1, sort_keys=True))


def read_night_note(raw_dir: Path) -> NightNote | None:
    path = raw_dir / NIGHT_NOTE
    if not path.exists():
        return None
    return NightNote(**json.loads(path.read_text()))


def write_population(raw_dir: Path, rows: list[tuple[str, str, dt.date]]) -> Path:
    """The night's population with each customer's `fetched_on`."""
    path = raw_dir / NIGHT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(zip(*rows, strict=True)) if rows else [[], [], []]
    pq.write_table(pa.table(columns, schema=NIGHT_SCHEMA), path)
    return path


def read_population(raw_dir: Path) -> dict[CustomerKey, dt.date] | None:
    """Customer -> the night its lists were last fetched, or None without a night file."""
    path = raw_dir / NIGHT_FILE
    if not path.exists():
        return None
    table = pq.read_table(path, columns=["customer_id", "identifier_type", "fetched_on"])
    ids, types, dates = (table.column(n).to_pylist() for n in table.column_names)
    return dict(zip(zip(ids, types, strict=True), dates, strict=True))
