import datetime as dt
import re
import shutil

import duckdb
import pytest

from pipelines.lake import Lake
from pipelines.lake.tables import TABLES
from pipelines.warehouse.loader import (
    MissingTableDataError,
    SnapshotMismatchError,
    load_snapshot,
    open_staging,
    staging_path,
)
from pipelines.warehouse.publish import publish

DAY = dt.date(2025, 3, 10)
BADGE_ID = "65f0c0ffee0000000000b001"


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


SNAPSHOT_ROWS = {
    "badges": [
        {
            "badge_id": BADGE_ID,
            "badge_numeric_id": 71,
            "name": "Steps",
            "is_active": True,
            "starts_at": utc(2025, 1, 1, 6, 30, 0),
            "extra": '{"colour": "gold"}',
        },
        {"badge_id": "65f0c0ffee0000000000b002", "name": "Streak"},
    ],
    "customer_badges": [
        {"customer_id": "c1", "identifier_type": "id", "badge_id": BADGE_ID, "list_type": t}
        for t in ("AVAILABLE", "EARNED", "EXPIRED")
    ],
    "extract_errors": [
        {"endpoint": "badge_meta", "badge_id": "x", "http_status": 404, "attempts": 2},
    ],
}


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ?",
        [table],
    ).fetchall()
    return dict(rows)


def test_load_creates_typed_tables_with_the_snapshot_rows(lake: Lake, write_snapshot) -> None:
    write_snapshot(DAY, SNAPSHOT_ROWS)

    report = load_snapshot(lake, DAY)

    assert report.staging_path == staging_path(lake, DAY)
    assert report.staging_path.parent == lake.staging_dir
    assert report.seeded_from_published is False
    assert report.row_counts == {name: 0 for name in TABLES} | {
        "badges": 2,
        "customer_badges": 3,
        "extract_errors": 1,
    }
    with duckdb.connect(str(report.staging_path), read_only=True) as con:
        badge_types = column_types(con, "badges")
        assert badge_types["starts_at"] == "TIMESTAMP WITH TIME ZONE"
        assert badge_types["extra"] == "JSON"
        assert badge_types["snapshot_date"] == "DATE"
        assert badge_types["badge_numeric_id"] == "BIGINT"
        assert badge_types["is_active"] == "BOOLEAN"
        assert badge_types["name"] == "VARCHAR"
        assert column_types(con, "extract_errors")["http_status"] == "INTEGER"
        assert list(column_types(con, "badges")) == TABLES["badges"].column_names
        con.execute("SET TimeZone = 'UTC'")
        row = con.execute(
            "SELECT snapshot_date, badge_numeric_id, starts_at, extra->>'colour' "
            "FROM main.badges WHERE badge_id = ?",
            [BADGE_ID],
        ).fetchone()
        assert row == (DAY, 71, utc(2025, 1, 1, 6, 30), "gold")
        info = con.execute(
            "SELECT snapshot_date, badges_rows, customer_badges_rows, badge_earns_rows "
            "FROM main.snapshot_info"
        ).fetchall()
        assert info == [(DAY, 2, 3, 0)]


def test_loading_the_same_date_twice_gives_the_same_rows(lake: Lake, write_snapshot) -> None:
    write_snapshot(DAY, SNAPSHOT_ROWS)
    first = load_snapshot(lake, DAY)
    publish(lake, DAY)

    second = load_snapshot(lake, DAY)

    assert second.seeded_from_published is True
    assert second.row_counts == first.row_counts
    with duckdb.connect(str(second.staging_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM main.customer_badges").fetchone() == (3,)
        assert con.execute("SELECT count(*) FROM main.snapshot_info").fetchone() == (1,)


def test_missing_table_directory_names_the_table_and_path(lake: Lake, write_snapshot) -> None:
    write_snapshot(DAY, SNAPSHOT_ROWS)
    missing = lake.table_dir("badge_earns", DAY)
    shutil.rmtree(missing)

    with pytest.raises(MissingTableDataError) as error:
        load_snapshot(lake, DAY)

    assert "'badge_earns'" in str(error.value)
    assert str(missing) in str(error.value)
    assert not staging_path(lake, DAY).exists()


def test_table_directory_without_files_loads_as_empty(lake: Lake, write_snapshot) -> None:
    write_snapshot(DAY, SNAPSHOT_ROWS)
    for path in lake.table_dir("badge_claims", DAY).glob("*.parquet"):
        path.unlink()

    report = load_snapshot(lake, DAY)

    assert report.row_counts["badge_claims"] == 0
    assert report.row_counts["badges"] == 2


def test_rows_of_another_snapshot_are_refused(lake: Lake, write_snapshot) -> None:
    next_day = DAY + dt.timedelta(days=1)
    write_snapshot(DAY, SNAPSHOT_ROWS)
    for name in TABLES:
        shutil.copytree(lake.table_dir(name, DAY), lake.table_dir(name, next_day))

    with pytest.raises(SnapshotMismatchError, match=re.escape('main."badges": 2 rows')):
        load_snapshot(lake, next_day)


def test_load_carries_other_schemas_over_from_the_published_warehouse(
    lake: Lake, write_snapshot
) -> None:
    write_snapshot(DAY, SNAPSHOT_ROWS)
    load_snapshot(lake, DAY)
    with open_staging(lake, DAY) as con:
        con.execute("CREATE SCHEMA history")
        con.execute("CREATE TABLE history.kept AS SELECT 42 AS answer")
    publish(lake, DAY)
    next_day = DAY + dt.timedelta(days=1)
    write_snapshot(next_day, {"badges": SNAPSHOT_ROWS["badges"][:1]})

    report = load_snapshot(lake, next_day)

    with duckdb.connect(str(report.staging_path), read_only=True) as con:
        assert con.execute("SELECT answer FROM history.kept").fetchall() == [(42,)]
        assert con.execute("SELECT count(*) FROM main.badges").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM main.customer_badges").fetchone() == (0,)
        assert con.execute("SELECT snapshot_date FROM main.snapshot_info").fetchall() == [
            (next_day,)
        ]


def test_open_staging_copies_the_published_warehouse_of_that_date(
    lake: Lake, write_snapshot
) -> None:
    write_snapshot(DAY, SNAPSHOT_ROWS)
    load_snapshot(lake, DAY)
    publish(lake, DAY)
    assert not staging_path(lake, DAY).exists()

    with open_staging(lake, DAY) as con:
        assert con.execute("SELECT count(*) FROM main.badges").fetchone() == (2,)

    assert staging_path(lake, DAY).exists()
    with pytest.raises(FileNotFoundError, match="load the snapshot first"):
        open_staging(lake, DAY + dt.timedelta(days=1))
