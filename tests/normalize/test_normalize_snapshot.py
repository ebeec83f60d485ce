"""normalize_snapshot over a real raw archive in tmp_path, read back with pyarrow."""

import datetime as dt
import shutil
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.lake import Lake
from pipelines.lake.checkpoint import CheckpointWriter
from pipelines.lake.damage import DamagedFileError
from pipelines.lake.raw import RawRecord
from pipelines.lake.tables import TABLES
from pipelines.normalize.normalizer import normalize_snapshot
from tests.normalize.normalize_support import FIXTURES, utc

DATE = dt.date(2026, 2, 1)
LIST_PATH = (
    "/api_gateway/v1/badges/customer/{}?badgeType=EARNED&page={}&limit=10&includeExpired=true"
)
DETAIL_PATH = "/api_gateway/v1/badges/management/{}/badge/{}?includeStatistics=true"


def fixture_body(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def meta(badge_id: str, fixture: str) -> RawRecord:
    path = f"/api_gateway/v1/badges/badgeMeta/{badge_id}?includeStatistics=true"
    return RawRecord("badge_meta", path, True, 200, fixture_body(fixture), badge_id=badge_id)


def page(customer: str, number: int, body: bytes, path: str | None = None) -> RawRecord:
    return RawRecord(
        "customer_badges",
        path or LIST_PATH.format(customer, number),
        True,
        200,
        body,
        customer_id=customer,
        identifier_type="id",
        list_type="EARNED",
        page=number,
    )


def detail(customer: str, badge_id: str, fixture: str) -> RawRecord:
    return RawRecord(
        "customer_badge_detail",
        DETAIL_PATH.format(customer, badge_id),
        True,
        200,
        fixture_body(fixture),
        customer_id=customer,
        identifier_type="id",
        badge_id=badge_id,
    )


def second_page() -> bytes:
    """Page 1 of c1: one entry shifted over from page 0, one new entry."""
    first_page = orjson.loads(fixture_body("get-customer-badges-1"))["data"]["badges"]
    extra_badge = orjson.loads(fixture_body("get-customer-badges-4"))["data"]["badges"][0]
    return orjson.dumps({"data": {"badges": [first_page[9], extra_badge]}, "errors": []})


def third_page_without_limit() -> bytes:
    body = orjson.loads(fixture_body("get-customer-badges-2"))
    body["data"]["pagination"] = {"page": 2, "size": 1, "total": 3, "totalPages": 3}
    return orjson.dumps(body)


def archive_records() -> list[RawRecord]:
    failed = RawRecord(
        "customer_badges",
        LIST_PATH.format("ghost", 0),
        False,
        404,
        customer_id="ghost",
        identifier_type="id",
        list_type="EARNED",
        attempts=1,
        error_code="1026",
        error_message="Customer not found",
    )
    not_found_body = b'{"data": null, "errors": [{"code": 1026, "message": "Customer not found"}]}'
    return [
        meta("662749408fe258516a88fe89", "get-badge-meta-by-id-2"),
        meta("662749408fe258516a88fe89", "get-badge-meta-by-id-2"),  # fetched twice
        meta("692e7e739b3ca00e4bbf7c06", "get-badge-meta-by-id-1"),
        page("c1", 0, fixture_body("get-customer-badges-1")),
        page("c1", 1, second_page()),
        page("c2", 2, third_page_without_limit(), path="/api_gateway/v1/badges/customer/c2"),
        detail("c1", "67037d51d33ceb2ad0a69b1b", "get-customer-badge-detail-7"),
        detail("c1", "67037d51d33ceb2ad0a69b1b", "get-customer-badge-detail-7"),  # twice
        detail("c2", "693696bdcebb9648d89735b3", "get-customer-badge-detail-1"),
        failed,
        detail("c3", "b-truncated", "get-customer-badge-detail-1"),
        page("c4", 0, not_found_body),
        page("c5", 0, b'{"errors": []}'),
    ]


def write_archive(lake: Lake, records: list[RawRecord]) -> Path:
    raw_dir = lake.raw_dir(DATE)
    shutil.rmtree(raw_dir, ignore_errors=True)  # the archive is replaced as a whole
    writer = CheckpointWriter(raw_dir, batch_rows=4)
    for record in records:
        writer.add([record])
    writer.flush()
    return raw_dir


def read(lake: Lake, table: str) -> pa.Table:
    """A partition as the loader reads it: the file, cast to the contract's types."""
    return pq.read_table(lake.table_dir(table, DATE) / "part-0.parquet").cast(
        TABLES[table].arrow_schema
    )


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "data")


def test_snapshot_writes_every_table_typed_deduplicated_with_error_rows(lake):
    records = archive_records()
    records[10].body = records[10].body[:200]  # truncated body
    stale = lake.lake_dir / "badges" / f".tmp-{DATE.isoformat()}-deadbeef"
    stale.mkdir(parents=True)

    report = normalize_snapshot(
        write_archive(lake, records), lake, DATE, batch_size=3, flush_rows=4
    )

    assert report.records_read == 13
    assert report.rows == {
        "badges": 2,
        "badge_owners": 4,
        "badge_claims": 2,
        "badge_custom_fields": 9,
        "badge_constraints": 4,
        "customer_badges": 12,
        "customer_badge_details": 2,
        "customer_badge_constraints": 8,
        "badge_issuals": 1,
        "badge_earns": 0,
        "extract_errors": 4,
    }
    assert report.duplicates == {"badges": 1, "customer_badge_details": 1, "customer_badges": 1}
    assert not stale.exists()
    for name, table in TABLES.items():
        files = sorted(p.name for p in lake.table_dir(name, DATE).iterdir())
        assert files == ["part-0.parquet"]
        written = read(lake, name)
        assert pq.read_schema(lake.table_dir(name, DATE) / "part-0.parquet") == table.file_schema
        assert written.num_rows == report.rows[name]
    assert read(lake, "badges").schema.field("starts_at").type == pa.timestamp("us", tz="UTC")
    # a flush once 4 rows are pending: page 0 (10 rows), then the last 2 rows on close
    part = lake.table_dir("customer_badges", DATE) / "part-0.parquet"
    assert pq.ParquetFile(part).num_row_groups == 2


def test_snapshot_values_read_back(lake):
    records = archive_records()
    records[10].body = records[10].body[:200]
    normalize_snapshot(write_archive(lake, records), lake, DATE)

    badges = read(lake, "badges").to_pylist()
    assert [(b["badge_id"], b["snapshot_date"]) for b in badges] == [
        ("662749408fe258516a88fe89", DATE),
        ("692e7e739b3ca00e4bbf7c06", DATE),
    ]
    assert badges[0]["starts_at"] == dt.datetime(2024, 5, 27, 9, 51, 27, tzinfo=dt.UTC)
    issual = read(lake, "badge_issuals").to_pylist()[0]
    assert issual["issued_at"] == dt.datetime(2024, 10, 7, 6, 19, 29, 300000, tzinfo=dt.UTC)
    details = read(lake, "customer_badge_details").to_pylist()
    assert details[1]["starts_at"] == dt.datetime(2025, 12, 8, 7, 28, 16, tzinfo=dt.UTC)

    listed = read(lake, "customer_badges").select(["customer_id", "badge_id", "list_position"])
    rows = listed.to_pylist()
    assert [r["list_position"] for r in rows if r["customer_id"] == "c1"] == [*range(10), 11]
    assert rows[10]["badge_id"] == "653dea07b3cda7078c7c68ee"
    assert rows[11] == {
        "customer_id": "c2",
        "badge_id": "664442c560646c1208ede8f4",
        "list_position": 2,
    }
    assert read(lake, "customer_badges").column("last_earned_at").to_pylist()[11] == dt.datetime(
        2023, 5, 19, 12, 40, tzinfo=dt.UTC
    )

    errors = read(lake, "extract_errors").to_pylist()
    assert [(e["customer_id"], e["http_status"], e["error_code"]) for e in errors] == [
        ("ghost", 404, "1026"),
        ("c3", 200, "bad_body"),
        ("c4", 200, "1026"),
        ("c5", 200, "bad_body"),
    ]
    assert errors[1]["message"] == "response body is not valid JSON (200 bytes)"
    assert errors[1]["badge_id"] == "b-truncated"
    assert errors[3]["message"] == "response has no data"
    assert read(lake, "badge_earns").num_rows == 0


def test_rerun_replaces_the_partition(lake):
    raw_dir = write_archive(lake, archive_records())
    normalize_snapshot(raw_dir, lake, DATE)
    normalize_snapshot(raw_dir, lake, DATE)
    assert read(lake, "badges").num_rows == 2
    assert read(lake, "customer_badges").num_rows == 12

    write_archive(lake, [meta("692e7e739b3ca00e4bbf7c06", "get-badge-meta-by-id-1")])
    report = normalize_snapshot(raw_dir, lake, DATE)
    assert report.rows["badges"] == 1
    assert read(lake, "badges").column("badge_id").to_pylist() == ["692e7e739b3ca00e4bbf7c06"]
    assert read(lake, "customer_badges").num_rows == 0
    leftovers = [p.name for p in (lake.lake_dir / "badges").iterdir()]
    assert leftovers == [f"snapshot_date={DATE.isoformat()}"]


def test_a_failing_run_leaves_the_previous_partition_intact(lake):
    raw_dir = write_archive(lake, archive_records())
    normalize_snapshot(raw_dir, lake, DATE)
    (raw_dir / "z-broken.parquet").write_bytes(b"this is not parquet")

    with pytest.raises(DamagedFileError, match=r"z-broken\.parquet cannot be read"):
        normalize_snapshot(raw_dir, lake, DATE)

    assert read(lake, "badges").num_rows == 2
    assert read(lake, "customer_badges").num_rows == 12
    assert [p.name for p in (lake.lake_dir / "badges").iterdir()] == [
        f"snapshot_date={DATE.isoformat()}"
    ]


def test_missing_raw_directory_is_an_error(lake):
    with pytest.raises(FileNotFoundError):
        normalize_snapshot(lake.raw_dir(DATE), lake, DATE)


def test_timestamps_are_exact_microseconds_in_parquet(lake):
    write_archive(lake, [detail("c1", "67037d51d33ceb2ad0a69b1b", "get-customer-badge-detail-7")])
    normalize_snapshot(lake.raw_dir(DATE), lake, DATE)
    revoked = read(lake, "badge_issuals").column("revoked_at").cast(pa.int64()).to_pylist()
    assert revoked == [utc("2024-10-07 06:23:21.451000")]


def test_a_partition_moved_aside_by_a_crash_is_restored_by_the_next_run(lake):
    raw_dir = write_archive(lake, archive_records())
    normalize_snapshot(raw_dir, lake, DATE)
    target = lake.table_dir("badges", DATE)
    moved_aside = target.parent / f".old-{DATE.isoformat()}-crashed"
    target.rename(moved_aside)  # a crash between the two renames of the swap
    (raw_dir / "z-broken.parquet").write_bytes(b"this is not parquet")

    with pytest.raises(DamagedFileError, match=r"z-broken\.parquet cannot be read"):
        normalize_snapshot(raw_dir, lake, DATE)

    assert not moved_aside.exists()
    assert read(lake, "badges").num_rows == 2
