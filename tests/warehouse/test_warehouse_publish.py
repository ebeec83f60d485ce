import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.lake import Lake
from pipelines.lake.dbfiles import WarehouseBusyError, remove_database, wal_path
from pipelines.lake.engine import STORAGE_VERSION_NUMBER, storage_version_number
from pipelines.warehouse.loader import load_snapshot, open_staging, staging_path
from pipelines.warehouse.publish import StagingStillOpenError, publish, published_snapshot

OLD_DAY = dt.date(2025, 3, 10)
NEW_DAY = dt.date(2025, 3, 11)

READER = """
import pathlib, sys
import duckdb
database, log_path, stop_path = sys.argv[1:4]
con = duckdb.connect(database, read_only=True)
with open(log_path, "a", buffering=1) as log:
    while True:
        stopping = pathlib.Path(stop_path).exists()
        try:
            row = con.execute(
                "SELECT (SELECT snapshot_date FROM main.snapshot_info),"
                " (SELECT count(*) FROM main.badges), (SELECT min(name) FROM main.badges)"
            ).fetchone()
        except Exception as error:
            log.write(f"ERROR {type(error).__name__}: {error}\\n")
            sys.exit(1)
        log.write(f"{row[0]} {row[1]} {row[2]}\\n")
        if stopping:
            break
"""

CRASHING_WRITER = """
import os, signal, sys
import duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE OR REPLACE TABLE main.badges (badge_id VARCHAR)")
con.execute("CHECKPOINT")
con.execute("INSERT INTO main.badges SELECT 'half-' || range FROM range(1000)")
os.kill(os.getpid(), signal.SIGKILL)
"""

HOLDING_WRITER = """
import pathlib, sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
pathlib.Path(sys.argv[2]).touch()
while not pathlib.Path(sys.argv[3]).exists():
    time.sleep(0.02)
con.close()
"""


def badge_rows(prefix: str, count: int) -> list[dict]:
    return [{"badge_id": f"{prefix}{i:022d}", "name": f"{prefix}-{i}"} for i in range(count)]


def load_and_publish(lake: Lake, write_snapshot, day: dt.date, badges: int, prefix: str):
    write_snapshot(day, {"badges": badge_rows(prefix, badges)})
    load_snapshot(lake, day)
    return publish(lake, day)


def query_in_new_process(database: Path, sql: str) -> str:
    code = (
        "import duckdb; "
        f"print(duckdb.connect({str(database)!r}, read_only=True).sql({sql!r}).fetchall())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def log_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_publish_swaps_the_warehouse_and_removes_the_staging_file(
    lake: Lake, write_snapshot
) -> None:
    assert published_snapshot(lake) is None

    report = load_and_publish(lake, write_snapshot, OLD_DAY, 3, "a")

    assert report.snapshot_date == OLD_DAY
    assert report.previous_snapshot_date is None
    assert report.warehouse_path == lake.warehouse_path
    assert report.size_bytes == lake.warehouse_path.stat().st_size
    assert published_snapshot(lake) == OLD_DAY
    assert not staging_path(lake, OLD_DAY).exists()
    assert not wal_path(lake.warehouse_path).exists()
    second = load_and_publish(lake, write_snapshot, NEW_DAY, 5, "b")
    assert second.previous_snapshot_date == OLD_DAY
    assert published_snapshot(lake) == NEW_DAY


def test_open_reader_keeps_its_snapshot_while_a_new_one_is_published(
    lake: Lake, write_snapshot, tmp_path: Path
) -> None:
    load_and_publish(lake, write_snapshot, OLD_DAY, 3, "a")
    log, stop = tmp_path / "reader.log", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(lake.warehouse_path), str(log), str(stop)]
    )
    try:
        wait_for(lambda: len(log_lines(log)) >= 3, "the reader's first queries")
        load_and_publish(lake, write_snapshot, NEW_DAY, 5, "b")
        queried_before_publish_returned = len(log_lines(log))
        wait_for(
            lambda: len(log_lines(log)) >= queried_before_publish_returned + 20,
            "queries after the publish",
        )
        stop.touch()
        assert reader.wait(timeout=30) == 0, log_lines(log)[-1]
    finally:
        reader.kill()
        reader.wait()

    seen = set(log_lines(log))
    assert seen == {f"{OLD_DAY} 3 a-0"}
    assert (
        query_in_new_process(
            lake.warehouse_path,
            "SELECT (SELECT snapshot_date FROM main.snapshot_info), count(*) FROM main.badges",
        )
        == "[(datetime.date(2025, 3, 11), 5)]"
    )
    assert published_snapshot(lake) == NEW_DAY


def test_a_crashed_load_leaves_the_warehouse_intact_and_the_next_load_works(
    lake: Lake, write_snapshot
) -> None:
    load_and_publish(lake, write_snapshot, OLD_DAY, 3, "a")
    staging = staging_path(lake, NEW_DAY)
    staging.parent.mkdir(parents=True, exist_ok=True)
    crashed = subprocess.run([sys.executable, "-c", CRASHING_WRITER, str(staging)], timeout=60)
    assert crashed.returncode == -9
    assert wal_path(staging).exists()

    assert published_snapshot(lake) == OLD_DAY
    report = load_and_publish(lake, write_snapshot, NEW_DAY, 5, "b")

    assert report.snapshot_date == NEW_DAY
    with duckdb.connect(str(lake.warehouse_path), read_only=True) as con:
        assert con.execute("SELECT count(*), min(name) FROM main.badges").fetchone() == (5, "b-0")
    assert not staging.exists()
    assert not wal_path(staging).exists()


def test_garbage_staging_files_do_not_block_the_next_load(lake: Lake, write_snapshot) -> None:
    staging = staging_path(lake, OLD_DAY)
    staging.parent.mkdir(parents=True)
    staging.write_bytes(b"not a database" * 100)
    wal_path(staging).write_bytes(b"not a wal" * 100)

    load_and_publish(lake, write_snapshot, OLD_DAY, 3, "a")

    assert published_snapshot(lake) == OLD_DAY


def test_publish_removes_a_stale_wal_beside_the_published_file(lake: Lake, write_snapshot) -> None:
    load_and_publish(lake, write_snapshot, OLD_DAY, 3, "a")
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, str(lake.warehouse_path)], timeout=60
    )
    assert crashed.returncode == -9
    assert wal_path(lake.warehouse_path).exists()

    report = load_and_publish(lake, write_snapshot, NEW_DAY, 5, "b")

    assert report.removed_stale_wal is True
    assert not wal_path(lake.warehouse_path).exists()
    assert query_in_new_process(lake.warehouse_path, "SELECT count(*) FROM main.badges") == (
        "[(5,)]"
    )


def test_publish_refuses_while_another_process_writes_the_warehouse(
    lake: Lake, write_snapshot, tmp_path: Path
) -> None:
    load_and_publish(lake, write_snapshot, OLD_DAY, 3, "a")
    write_snapshot(NEW_DAY, {"badges": badge_rows("b", 5)})
    load_snapshot(lake, NEW_DAY)
    opened, stop = tmp_path / "opened", tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", HOLDING_WRITER, str(lake.warehouse_path), str(opened), str(stop)]
    )
    try:
        wait_for(opened.exists, "the writer to open the warehouse")
        with pytest.raises(WarehouseBusyError, match="open read-write in another process"):
            publish(lake, NEW_DAY)
        stop.touch()
        assert writer.wait(timeout=30) == 0
    finally:
        writer.kill()
        writer.wait()

    assert staging_path(lake, NEW_DAY).exists()
    assert publish(lake, NEW_DAY).previous_snapshot_date == OLD_DAY
    assert published_snapshot(lake) == NEW_DAY


def test_publish_without_a_staging_file_is_an_error(lake: Lake) -> None:
    with pytest.raises(FileNotFoundError, match="no staging warehouse to publish"):
        publish(lake, OLD_DAY)


def test_publish_refuses_while_the_staging_file_is_still_open(lake: Lake, write_snapshot) -> None:
    write_snapshot(OLD_DAY, {"badges": badge_rows("a", 3)})
    load_snapshot(lake, OLD_DAY)
    con = open_staging(lake, OLD_DAY)
    try:
        with pytest.raises(StagingStillOpenError, match="still open in this process"):
            publish(lake, OLD_DAY)
    finally:
        con.close()

    assert published_snapshot(lake) is None
    assert publish(lake, OLD_DAY).snapshot_date == OLD_DAY


def test_the_published_file_is_in_the_storage_version_older_clients_read(
    lake: Lake, write_snapshot
) -> None:
    load_and_publish(lake, write_snapshot, OLD_DAY, 3, "a")
    assert storage_version_number(lake.warehouse_path) == STORAGE_VERSION_NUMBER == 67

    # A warehouse published before, in DuckDB 2.0's own format, is rewritten once.
    remove_database(lake.warehouse_path)
    with duckdb.connect(str(lake.warehouse_path)) as con:
        con.execute("CREATE SCHEMA history")
        con.execute("CREATE TABLE history.kept AS SELECT 42 AS answer")
    assert storage_version_number(lake.warehouse_path) > STORAGE_VERSION_NUMBER

    load_and_publish(lake, write_snapshot, NEW_DAY, 5, "b")

    assert storage_version_number(lake.warehouse_path) == STORAGE_VERSION_NUMBER
    assert query_in_new_process(lake.warehouse_path, "SELECT * FROM history.kept") == "[(42,)]"
    assert query_in_new_process(lake.warehouse_path, "SELECT count(*) FROM badges") == "[(5,)]"
