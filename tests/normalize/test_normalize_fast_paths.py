"""The shortcuts of the normalizer give what the general code gives."""

import datetime as dt
import math
import random
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.lake.checkpoint import CheckpointWriter
from pipelines.lake.raw import RawRecord, iter_records
from pipelines.lake.tables import BADGE_OWNERS, CUSTOMER_BADGE_CONSTRAINTS
from pipelines.normalize.constraints import constraint_rows
from pipelines.normalize.record_rows import _limit_of
from pipelines.normalize.timestamps import epoch_to_micros, iso_to_micros, parse_timestamp
from pipelines.normalize.writer import rows_to_arrow
from tests.normalize.normalize_support import utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-06T07:01:28.632Z", (utc("2026-11-06 07:01:28.632"), None)),
        ("2026-11-06T07:01:28.632145Z", (utc("2026-11-06 07:01:28.632145"), None)),
        ("2024-05-27T15:21:27+05:30", (utc("2024-05-27 09:51:27"), None)),
        ("2024-01-01T10:00:00+05:60", (utc("2024-01-01 04:00:00"), None)),
        ("2024-01-01T10:00:00+24:00", (utc("2023-12-31 10:00:00"), None)),
        ("2024-01-01T24:00:00Z", (None, "unparseable")),
        ("2024-01-01T23:59:60Z", (None, "unparseable")),
        ("2023-02-29T00:00:00Z", (None, "unparseable")),
        ("0000-01-01T00:00:00Z", (None, "year < 1")),
        ("0001-01-01T00:30:00+01:00", (None, "year < 1")),
        ("9999-12-31T23:59:59-01:00", (None, "year > 9999")),
        ("2024-01-01T00:00:00.1234567Z", (utc("2024-01-01 00:00:00.123457"), None)),
        ("2024-01-01T00:00:00.12Z", (utc("2024-01-01 00:00:00.120"), None)),
        ("٢٠٢٤-01-01T00:00:00Z", (utc("2024-01-01 00:00:00"), None)),
    ],
)
def test_iso_strings_of_the_common_shape_and_its_edges(text, expected):
    assert iso_to_micros(text) == expected


def _epoch_floats() -> list[float]:
    edges = [-60_000_000_000.0, 100_000_000_000.0, 0.0, -0.0, 0.5e-6, 1.5e-6, 2.5e-6, -2.5e-6]
    near_edges = [
        math.nextafter(edge, toward) for edge in edges for toward in (-math.inf, math.inf)
    ]
    rng = random.Random(3)
    spread = [rng.uniform(-7e10, 1.1e11) for _ in range(2_000)]
    halves = [rng.randrange(-(10**16), 10**17) / 1e6 + 0.5e-6 for _ in range(2_000)]
    return [*edges, *near_edges, *spread, *halves, 1728281969.3, 1765185213.63]


def test_epoch_seconds_shortcut_gives_what_the_epoch_rule_gives():
    for value in _epoch_floats():
        assert parse_timestamp(value) == epoch_to_micros(value), value


def test_epoch_integer_shortcut_gives_what_the_epoch_rule_gives():
    edges = [-60_000_000_000, 100_000_000_000, 0, 1, -1, 1_765_185_213]
    rng = random.Random(5)
    spread = [rng.randrange(-7 * 10**10, 11 * 10**10) for _ in range(2_000)]
    for edge in edges:
        for value in (edge - 1, edge, edge + 1):
            assert parse_timestamp(value) == epoch_to_micros(value), value
    for value in spread:
        assert parse_timestamp(value) == epoch_to_micros(value), value
    assert type(parse_timestamp(1_765_185_213)[0]) is int


def _constraints() -> dict:
    return {
        "customerConstraints": [
            {"constraintType": "ROLLING_WINDOW", "rollingWindowLimits": [
                {"rollType": "DAYS", "rollValue": 2, "maxEarnLimit": 1, "note": "x"}],
             "earnConstraintBlockStatistics": {"currentEarnCountDays": 1}},
            {"constraintType": "MYSTERY", "maxEarnLimit": "many"},
        ],
        "badgeConstraints": [{"constraintType": "OVERALL", "maxEarnLimit": 1.0}],
    }  # fmt: skip


def test_a_repeated_constraint_array_gives_the_same_rows_and_counts_its_warnings_again():
    warnings = Counter()
    first_keys = {"snapshot_date": dt.date(2026, 2, 1), "customer_id": "c1", "badge_id": "b"}
    first = constraint_rows(_constraints(), CUSTOMER_BADGE_CONSTRAINTS, first_keys, warnings)
    second_keys = {**first_keys, "customer_id": "c2"}
    second = constraint_rows(_constraints(), CUSTOMER_BADGE_CONSTRAINTS, second_keys, warnings)

    assert [row["customer_id"] for row in first + second] == ["c1"] * 3 + ["c2"] * 3
    assert [{**row, "customer_id": None} for row in first] == [
        {**row, "customer_id": None} for row in second
    ]
    assert [row["max_earn_limit"] for row in second] == [1, None, 1]
    assert orjson.loads(second[0]["extra"]) == {"rollingWindowLimits.note": "x"}
    assert warnings == Counter({
        "customer_badge_constraints.constraint_kind: unknown constraintType": 2,
        "customer_badge_constraints.max_earn_limit: wrong type": 2,
    })  # fmt: skip
    assert list(second[0]) == CUSTOMER_BADGE_CONSTRAINTS.column_names


def test_values_equal_in_python_but_not_in_json_are_not_confused():
    one = {"badgeConstraints": [{"constraintType": "OVERALL", "maxEarnLimit": 1}]}
    true = {"badgeConstraints": [{"constraintType": "OVERALL", "maxEarnLimit": True}]}
    warnings = Counter()
    rows = constraint_rows(one, CUSTOMER_BADGE_CONSTRAINTS, {}, warnings)
    rows += constraint_rows(true, CUSTOMER_BADGE_CONSTRAINTS, {}, warnings)
    assert [row["max_earn_limit"] for row in rows] == [1, None]
    assert warnings == Counter({"customer_badge_constraints.max_earn_limit: wrong type": 1})


def test_records_read_for_normalizing_match_the_archive_reader(tmp_path: Path):
    received = dt.datetime(2026, 2, 1, 3, 4, 5, tzinfo=dt.UTC)
    records = [
        RawRecord("badge_meta", f"/p/{n}?limit=5", n % 2 == 0, 200 + n, b'{"data":{}}' * n,
                  f"c{n}", "id", f"b{n}", "EARNED", n, n + 1, None, "m",
                  dt.date(2026, 1, n + 1) if n % 3 else None, received)
        for n in range(7)
    ]  # fmt: skip
    writer = CheckpointWriter(tmp_path, batch_rows=3)
    for record in records:
        writer.add([record])
    writer.flush()

    read = list(iter_records(tmp_path, batch_size=2))

    archived = [
        RawRecord(**row)
        for path in sorted(tmp_path.glob("*.parquet"))
        for row in pq.read_table(path).to_pylist()
    ]
    assert read == [RawRecord(**{**vars(record), "received_at": None}) for record in archived]
    assert [record.reused_from for record in read] == [r.reused_from for r in records]
    assert [record.customer_id for record in read] == [f"c{n}" for n in range(7)]


@pytest.mark.parametrize(
    "path",
    [
        "/x?badgeType=EARNED&page=2&limit=10&includeExpired=true",
        "/x?LIMIT=7",
        "/x?limit=&limit=5=6&limit=8",
        "/x?a&limit=12#frag",
        "/x?%6Cimit=9",
        "/x?limit=+4",
        "/x?limit=%34",
        "/x?page=1",
        "/x",
        "",
    ],
)
def test_limit_of_a_request_path_matches_parse_qsl(path):
    expected = next(
        (int(value) for name, value in parse_qsl(urlsplit(path).query)
         if name.lower() == "limit" and value.isdigit()),
        None,
    )  # fmt: skip
    assert _limit_of(path) == expected


def test_rows_lacking_a_column_are_written_with_null_there():
    rows = [{"snapshot_date": dt.date(2026, 2, 1), "badge_id": "b", "owner_type": "Loyalty"},
            {"badge_id": "c"}]  # fmt: skip
    table = rows_to_arrow(BADGE_OWNERS, rows)
    assert table.schema == BADGE_OWNERS.arrow_schema
    assert table.column("owner_type").to_pylist() == ["Loyalty", None]
    assert rows_to_arrow(BADGE_OWNERS, []).equals(BADGE_OWNERS.arrow_schema.empty_table())
    assert isinstance(table, pa.Table)
