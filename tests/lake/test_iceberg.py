"""The lake's Iceberg tables over hand-made partitions: one snapshot per table and night, a
date's partition replaced (never duplicated), a commit resumed after a kill, readers that
see one snapshot whole, time travel, schema evolution, local expiry, a catalog that does not
answer, and the same commits through a PostgreSQL catalog and into a bucket."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.expressions import EqualTo

from pipelines.lake import Lake
from pipelines.lake.iceberg import NIGHT_ID, ROWS, SNAPSHOT_DATE, LakeCatalog, evolve_schema
from pipelines.lake.iceberg_catalog import (
    NAMESPACE,
    CatalogConfig,
    CatalogUnavailable,
    answering,
    embedded_catalog,
)
from pipelines.lake.objectstore import BucketAccess
from pipelines.lake.tables import BADGE_EARNS, TABLES
from tests.services.s3 import S3Server

DAY, NEXT = dt.date(2026, 12, 1), dt.date(2026, 12, 2)


def write_night(lake: Lake, day: dt.date, marker: str, rows: int) -> None:
    """Every table's partition of `day`: `rows` rows whose ids start with `marker`, written
    anew as the lake does (a new directory in place of the old, never a file rewritten)."""
    for name, table in TABLES.items():
        values = {c.name: [None] * rows for c in table.columns}
        values["snapshot_date"] = [day.isoformat()] * rows
        for column in ("badge_id", "earn_id", "customer_id"):
            if column in values:
                values[column] = [f"{marker}-{i}" for i in range(rows)]
        directory = lake.table_dir(name, day)
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        pq.write_table(pa.table(values, schema=table.file_schema), directory / "part-0.parquet")


def rows_of(catalog: LakeCatalog, day: dt.date, table: str = "badge_earns") -> list[str]:
    iceberg = catalog.catalog.load_table((NAMESPACE, table))
    scan = iceberg.scan(row_filter=EqualTo("snapshot_date", day.isoformat()))
    return sorted(scan.to_arrow().column("badge_id").to_pylist())


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "data")


def test_a_night_is_one_snapshot_per_table_and_a_rerun_replaces_its_date(lake: Lake):
    catalog = LakeCatalog(embedded_catalog(lake))
    write_night(lake, DAY, "a", 3)
    first = catalog.commit_night(lake, DAY, "night-a")
    assert sorted(first.committed) == sorted(TABLES)
    assert sorted(t for _, t in catalog.catalog.list_tables(NAMESPACE)) == sorted(TABLES)
    earns = catalog.catalog.load_table((NAMESPACE, "badge_earns"))
    assert earns.metadata.format_version == 2
    assert [f.name for f in earns.spec().fields] == ["snapshot_date"]
    assert earns.schema().column_names == BADGE_EARNS.column_names
    summary = earns.current_snapshot().summary.additional_properties
    assert (summary[NIGHT_ID], summary[SNAPSHOT_DATE], summary[ROWS]) == (
        "night-a",
        "2026-12-01",
        "3",
    )
    # The files are added as they are: the same bytes, linked under the table's location.
    path = lake.table_files("badge_earns", DAY)[0]
    (task,) = earns.scan().plan_files()
    assert os.path.samefile(task.file.file_path.removeprefix("file://"), path)

    assert catalog.commit_night(lake, DAY, "night-a").committed == []  # committed already
    write_night(lake, DAY, "b", 5)  # a same-day rerun: the partition replaced
    catalog.commit_night(lake, DAY, "night-b")
    write_night(lake, NEXT, "c", 2)
    catalog.commit_night(lake, NEXT, "night-c")
    assert rows_of(catalog, DAY) == [f"b-{i}" for i in range(5)]
    assert rows_of(catalog, NEXT) == ["c-0", "c-1"]
    write_night(lake, NEXT, "e", 0)  # an empty partition: no file, the date's rows gone
    catalog.commit_night(lake, NEXT, "night-e")
    assert rows_of(catalog, NEXT) == []
    assert all(task.file.partition[0] for task in earns.refresh().scan().plan_files())
    earns = earns.refresh()
    assert len(earns.metadata.snapshots) == 4  # one per night and table
    assert [s.summary.operation.value for s in earns.metadata.snapshots] == [
        "append",
        "overwrite",
        "append",
        "overwrite",
    ]
    # Time travel: the first night's snapshot holds exactly its partition as it was,
    # though the lake's directory was replaced since.
    old = earns.scan(snapshot_id=earns.metadata.snapshots[0].snapshot_id).to_arrow()
    assert sorted(old.column("badge_id").to_pylist()) == ["a-0", "a-1", "a-2"]
    # polars reads the same table.
    frame = pl.scan_iceberg(earns).filter(pl.col("snapshot_date") == "2026-12-01").collect()
    assert sorted(frame["badge_id"].to_list()) == [f"b-{i}" for i in range(5)]


def test_a_commit_killed_halfway_leaves_each_table_whole_and_the_next_run_completes_it(
    lake: Lake, tmp_path: Path
):
    write_night(lake, DAY, "a", 3)
    LakeCatalog(embedded_catalog(lake)).commit_night(lake, DAY, "night-a")
    write_night(lake, DAY, "b", 4)
    script = (
        "import datetime as dt, sys; from pathlib import Path; from pipelines.lake import Lake; "
        "from pipelines.lake.iceberg import LakeCatalog; "
        "from pipelines.lake.iceberg_catalog import embedded_catalog; "
        "lake = Lake(Path(sys.argv[1])); "
        "LakeCatalog(embedded_catalog(lake)).commit_night(lake, dt.date(2026, 12, 1), 'night-b')"
    )
    env = {**os.environ, "BADGES_KILL_AT": "commit"}
    killed = subprocess.run([sys.executable, "-c", script, str(lake.root)], env=env, check=False)
    assert killed.returncode == -9
    catalog = LakeCatalog(embedded_catalog(lake))
    nights = {
        s.table: s.night_id for s in catalog.current()
    }  # the first table holds night b, every other still night a
    assert sorted(nights.values()).count("night-b") == 1
    assert set(nights.values()) == {"night-a", "night-b"}
    resumed = catalog.commit_night(lake, DAY, "night-b")
    assert len(resumed.committed) == len(TABLES) - 1
    for name in TABLES:
        iceberg = catalog.catalog.load_table((NAMESPACE, name))
        of_b = [
            s
            for s in iceberg.metadata.snapshots
            if s.summary.additional_properties.get(NIGHT_ID) == "night-b"
        ]
        assert len(of_b) == 1, name  # one snapshot of the night per table
        assert len(rows_of(catalog, DAY, name)) == 4


def test_a_reader_during_commits_sees_one_night_whole(lake: Lake):
    catalog = LakeCatalog(embedded_catalog(lake))
    write_night(lake, DAY, "n0", 3)
    catalog.commit_night(lake, DAY, "n0")
    seen: list[set[str]] = []
    done = threading.Event()

    def read() -> None:
        reader = LakeCatalog(embedded_catalog(lake))
        while not done.is_set():
            ids = rows_of(reader, DAY)
            seen.append({i.split("-")[0] for i in ids} | {f"rows={len(ids)}"})

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for night in range(1, 7):
            write_night(lake, DAY, f"n{night}", 3 + night)
            catalog.commit_night(lake, DAY, f"n{night}")
    finally:
        done.set()
        thread.join()
    assert len(seen) > 3
    for snapshot in seen:
        (marker,) = {m for m in snapshot if not m.startswith("rows=")}
        assert snapshot == {marker, f"rows={3 + int(marker[1:])}"}


def test_a_promoted_column_is_added_and_old_snapshots_read_it_as_null(lake: Lake):
    catalog = LakeCatalog(embedded_catalog(lake))
    write_night(lake, DAY, "a", 2)
    catalog.commit_night(lake, DAY, "night-a")
    earns = catalog.catalog.load_table((NAMESPACE, "badge_earns"))
    promoted = BADGE_EARNS.file_schema.append(pa.field("earn_channel", pa.string()))
    evolve_schema(earns, promoted)
    earns = earns.refresh()
    assert earns.schema().column_names[-1] == "earn_channel"
    read = earns.scan().to_arrow()
    assert read.column("earn_channel").to_pylist() == [None, None]
    assert earns.properties["schema.name-mapping.default"].count("earn_channel") == 1


def test_local_expiry_drops_old_nights_and_in_time_the_files_only_they_held(lake: Lake):
    catalog = LakeCatalog(embedded_catalog(lake))
    days = [DAY + dt.timedelta(days=i) for i in range(6)]
    for i, day in enumerate(days[:4]):
        write_night(lake, day, f"d{i}", 2)
        catalog.commit_night(lake, day, f"night-{i}")
    earns = catalog.catalog.load_table((NAMESPACE, "badge_earns"))
    data = Path(earns.location().removeprefix("file://")) / "data"

    def dates_of_files() -> list[str]:
        return sorted(p.parent.name.removeprefix("snapshot_date=") for p in data.rglob("*.parquet"))

    assert sorted(catalog.expire_before(days[2])) == sorted(TABLES)
    earns = earns.refresh()
    current = earns.scan().to_arrow().column("snapshot_date").to_pylist()
    assert sorted(set(current)) == [d.isoformat() for d in days[2:4]]
    kept = [s.summary.additional_properties[SNAPSHOT_DATE] for s in earns.metadata.snapshots]
    assert min(kept) == days[2].isoformat()  # the nights before the window expired
    # Time travel to a kept night: exactly its partition as it was.
    night_2 = next(s for s in earns.metadata.snapshots if s.summary.get(NIGHT_ID) == "night-2")
    back = earns.scan(
        snapshot_id=night_2.snapshot_id, row_filter=EqualTo("snapshot_date", days[2].isoformat())
    )
    assert sorted(back.to_arrow().column("badge_id").to_pylist()) == ["d2-0", "d2-1"]
    # The files of days 0 and 1 stay while a kept night's snapshot holds them...
    assert dates_of_files() == [d.isoformat() for d in days[:4]]
    for i, day in enumerate(days[4:], start=4):
        write_night(lake, day, f"d{i}", 2)
        catalog.commit_night(lake, day, f"night-{i}")
    catalog.expire_before(days[4])
    # ... and go once those snapshots expired too.
    assert dates_of_files() == [d.isoformat() for d in days[2:]]
    assert catalog.expire_before(days[4]) == []  # nothing more to expire


def test_a_catalog_that_does_not_answer_is_one_line_naming_it(tmp_path: Path):
    config = CatalogConfig(
        "badges",
        {"type": "sql", "uri": "postgresql+psycopg2://u:sekret@127.0.0.1:9/none"},
    )
    with pytest.raises(CatalogUnavailable) as raised, answering(config):
        LakeCatalog(config).tables()
    message = str(raised.value)
    assert message.startswith("the Iceberg catalog 'badges' (sql, postgresql+psycopg2://u:***@")
    assert "sekret" not in message
    assert "\n" not in message


def test_a_postgresql_catalog_holds_the_same_commits(postgres, tmp_path: Path):
    lake = Lake(tmp_path / "data")
    url = postgres.new_database("iceberg_catalog").replace(
        "postgresql://", "postgresql+psycopg2://"
    )
    warehouse = (tmp_path / "warehouse").as_uri()
    config = CatalogConfig("badges", {"type": "sql", "uri": url, "warehouse": warehouse})
    catalog = LakeCatalog(config)
    write_night(lake, DAY, "a", 3)
    catalog.commit_night(lake, DAY, "night-a")
    write_night(lake, DAY, "b", 2)
    catalog.commit_night(lake, DAY, "night-b")
    assert rows_of(LakeCatalog(config), DAY) == ["b-0", "b-1"]
    assert {s.night_id for s in catalog.current()} == {"night-b"}


def test_over_a_bucket_the_files_are_uploaded_before_the_snapshot_names_them(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for name, value in s3.environment().items():
        monkeypatch.setenv(name, value)
    bucket = f"iceberg-{uuid.uuid4().hex[:10]}"
    s3.filesystem().create_dir(bucket)
    lake = Lake(tmp_path / "data", f"s3://{bucket}/nightly")
    access = BucketAccess(s3.endpoint_url, s3.region)
    config = embedded_catalog(lake, access)
    write_night(lake, DAY, "a", 3)
    LakeCatalog(config).commit_night(lake, DAY, "night-a")
    earns = LakeCatalog(config).catalog.load_table((NAMESPACE, "badge_earns"))
    assert earns.location().startswith(f"s3://{bucket}/nightly/iceberg/")
    (task,) = earns.scan().plan_files()
    assert task.file.file_path.startswith("s3://")

    write_night(lake, DAY, "b", 4)
    stopped = dataclasses.replace(access, endpoint="http://127.0.0.1:9")  # nothing listens
    down = dataclasses.replace(
        config,
        properties={
            **config.properties,
            "s3.endpoint": stopped.endpoint,
            "s3.connect-timeout": "1",
            "s3.request-timeout": "1",
        },
    )
    with pytest.raises(CatalogUnavailable), answering(down):
        LakeCatalog(down).commit_night(lake, DAY, "night-b")
    assert rows_of(LakeCatalog(config), DAY) == ["a-0", "a-1", "a-2"]  # the previous snapshot
    LakeCatalog(config).commit_night(lake, DAY, "night-b")
    assert rows_of(LakeCatalog(config), DAY) == [f"b-{i}" for i in range(4)]


def test_status_and_doctor_read_each_tables_snapshot_or_say_the_catalog_does_not_answer(
    lake: Lake,
):
    from pipelines.lake.iceberg import catalog_state
    from pipelines.ops.status import StatusReport

    config = embedded_catalog(lake)
    answers, said, snapshots = catalog_state(config)
    assert (answers, snapshots) == (True, None)
    assert said.endswith("none yet, the first night creates it")
    assert not config.sqlite_path.exists()  # reading the state creates nothing
    write_night(lake, DAY, "a", 2)
    commit = LakeCatalog(config).commit_night(lake, DAY, "night-a")
    answers, said, snapshots = catalog_state(config)
    assert answers and said == config.describe()
    assert {s.table: s.snapshot_id for s in snapshots} == {
        name: snapshot.snapshot_id for name, snapshot in commit.snapshots.items()
    }
    report = StatusReport(
        now=dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
        warehouse=lake.warehouse_path,
        published=None,
        stale_after_hours=26,
        iceberg=(said, snapshots),
    )
    lines = report.lines()
    earns = commit.snapshots["badge_earns"].snapshot_id
    assert any(
        line.split()[:5] == ["badge_earns", "snapshot", str(earns), "of", "2026-12-01,"]
        for line in lines
    ), lines
    down = CatalogConfig(
        "badges", {"type": "sql", "uri": "postgresql+psycopg2://u:p@127.0.0.1:9/x"}
    )
    answers, said, snapshots = catalog_state(down)
    assert (answers, snapshots) == (False, None)
    assert said.startswith("UNREACHABLE: the Iceberg catalog 'badges'")
