"""The bucket as the system of record, against moto's S3 server on 127.0.0.1: a night lands in
it whole, a fresh host picks up where the lost one left off, and a bucket that is down stops
a night before its first call or is caught up by the next one."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest
from dagster import DagsterInstance, materialize
from moto.server import ThreadedMotoServer

from pipelines.lake import Lake
from pipelines.lake.nightrecord import read_night_note
from pipelines.lake.tables import TABLES
from pipelines.ops.resources import BucketResource, LakeResource
from pipelines.ops.runs import status_report
from pipelines.sandbox import generate_org
from tests.e2e.conftest import ALL_ASSETS, Pipeline, start_pipeline, today
from tests.e2e.test_faults import _differences
from tests.e2e.test_live_readers import add_one_earn
from tests.nights import instance_offering
from tests.services.s3 import S3Server, started_s3


@dataclasses.dataclass(frozen=True)
class StoreBucket:
    server: S3Server
    name: str
    url: str  # s3://name/nightly

    def key(self, key: str) -> str:
        return f"{self.name}/nightly/{key}"

    def objects(self) -> dict[str, int]:
        from pyarrow import fs

        selector = fs.FileSelector(self.key("").rstrip("/"), recursive=True, allow_not_found=True)
        start = len(self.key(""))
        infos = self.server.filesystem().get_file_info(selector)
        return {i.path[start:]: i.size for i in infos if i.type == fs.FileType.File}

    def read(self, key: str) -> bytes:
        with self.server.filesystem().open_input_stream(self.key(key)) as stream:
            return stream.read()

    def environment(self) -> dict[str, str]:
        return {**self.server.environment(), "BADGES_BUCKET_URL": self.url}


def new_bucket(server: S3Server) -> StoreBucket:
    name = f"badges-{uuid.uuid4().hex[:10]}"
    server.filesystem().create_dir(name)
    return StoreBucket(server, name, f"s3://{name}/nightly")


@pytest.fixture(scope="module")
def bucket(s3: S3Server) -> Iterator[StoreBucket]:
    """A fresh bucket; this process's AWS variables point at its server meanwhile."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in s3.environment().items():
            patch.setenv(name, value)
        yield new_bucket(s3)


def with_bucket(pipeline: Pipeline, root: Path, bucket: StoreBucket | None) -> Pipeline:
    """The same sandbox, another data directory (another host), with or without the bucket."""
    return dataclasses.replace(pipeline, lake=Lake(root, bucket.url if bucket else None))


@pytest.fixture(scope="module")
def first_night(
    tmp_path_factory: pytest.TempPathFactory, bucket: StoreBucket
) -> Iterator[tuple[Pipeline, int]]:
    """A night published here and in the bucket, and the requests it took (a full pull)."""
    root = tmp_path_factory.mktemp("bucket-night")
    org = generate_org(customers=30, badges=14, seed=23, as_of=today())
    for pipeline in start_pipeline(root, org):
        night = with_bucket(pipeline, root / "data", bucket)
        start = night.server.stats.total_requests
        assert night.run().success
        yield night, night.server.stats.total_requests - start


def test_a_night_lands_in_the_bucket_whole_and_another_engine_reads_the_lake_from_it(
    first_night: tuple[Pipeline, int], bucket: StoreBucket
):
    pipeline_with_bucket, _ = first_night
    day = f"snapshot_date={today().isoformat()}"
    objects = bucket.objects()
    lake = pipeline_with_bucket.lake
    for path in [*lake.raw_dir(today()).rglob("*"), *lake.lake_dir.glob(f"*/{day}/*")]:
        if path.is_file():
            assert objects[path.relative_to(lake.root).as_posix()] == path.stat().st_size
    assert f"lake/raw/{day}/_state/night.json" in objects  # the night record
    assert not [k for k in objects if ".building" in k]  # the checkpoint is gone once published
    manifest = json.loads(bucket.read(f"nights/{day}.json"))
    assert {k: v["size"] for k, v in manifest["objects"].items()} == {
        k: v for k, v in objects.items() if k.startswith(("lake/", "warehouse/"))
    }
    pointer = json.loads(bucket.read("latest.json"))
    assert pointer["snapshot_date"] == today().isoformat()
    assert objects[pointer["warehouse"]] == lake.warehouse_path.stat().st_size
    password = pipeline_with_bucket.credentials.password.encode()
    assert not [k for k in objects if password in bucket.read(k)]

    filesystem = bucket.server.filesystem()
    for table in ("customer_badges", "badge_earns", "badge_constraints"):
        from_bucket = ds.dataset(
            bucket.key(f"lake/{table}"), filesystem=filesystem, partitioning="hive"
        ).to_table()
        local = ds.dataset(lake.lake_dir / table, partitioning="hive").to_table()
        assert from_bucket.num_rows == local.num_rows
        key = ", ".join(TABLES[table].key)
        warehouse = pipeline_with_bucket.query(f"SELECT {key} FROM main.{table} ORDER BY ALL")
        with duckdb.connect() as con:
            con.register("lake_rows", from_bucket)
            read_back = con.execute(f"SELECT {key} FROM lake_rows ORDER BY ALL").fetchall()
        assert read_back == warehouse and len(warehouse) > 0, table
        assert set(from_bucket.column("snapshot_date").to_pylist()) == {today().isoformat()}


def test_a_fresh_hosts_reader_finds_the_nights_through_the_catalog_in_the_bucket(
    first_night: tuple[Pipeline, int], bucket: StoreBucket, tmp_path: Path
):
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.expressions import EqualTo

    pipeline_with_bucket, _ = first_night
    objects = bucket.objects()
    assert "iceberg/catalog.sqlite" in objects
    (tmp_path / "catalog.sqlite").write_bytes(bucket.read("iceberg/catalog.sqlite"))
    server = bucket.server
    catalog = SqlCatalog(
        "badges",
        uri=f"sqlite:///{tmp_path / 'catalog.sqlite'}",
        **{"s3.endpoint": server.endpoint_url, "s3.region": server.region},
    )
    assert len(catalog.list_tables("badges")) == len(TABLES)
    for name in TABLES:
        table = catalog.load_table(("badges", name))
        assert table.location().startswith(f"{bucket.url}/iceberg/")
        files = [t.file.file_path for t in table.scan().plan_files()]
        assert all(f.startswith(f"{bucket.url}/iceberg/") for f in files)  # all uploaded
        assert all(f.removeprefix(f"s3://{bucket.name}/nightly/") in objects for f in files)
        rows = table.scan(row_filter=EqualTo("snapshot_date", today().isoformat())).to_arrow()
        (count,) = pipeline_with_bucket.query(f"SELECT count(*) FROM main.{name}")[0]
        assert rows.num_rows == count, name


@contextlib.contextmanager
def a_port_nobody_listens_on() -> Iterator[int]:
    """A port held bound, never listening, while the test runs: a connection is refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def failures(result) -> list[str]:
    """What each failed step said, as `badges run` prints it."""
    return [
        e.step_failure_data.user_failure_data.description
        for e in result.all_events
        if e.is_step_failure and e.step_failure_data.user_failure_data is not None
    ]


def status_of(lake: Lake) -> tuple[int, str]:
    """`badges status` for this data directory: its exit code and its lines."""
    with DagsterInstance.local_temp() as instance:
        report = status_report(instance, lake, dt.datetime.now(dt.UTC))
    return report.exit_code, "\n".join(report.lines())


def test_a_bucket_down_at_the_start_stops_the_night_before_its_first_call(
    tmp_path: Path,
    first_night: tuple[Pipeline, int],
    bucket: StoreBucket,
    monkeypatch: pytest.MonkeyPatch,
):
    pipeline_with_bucket = with_bucket(first_night[0], tmp_path / "host", bucket)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret-value-3f9c")
    before = pipeline_with_bucket.server.stats.total_requests
    with a_port_nobody_listens_on() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        result = pipeline_with_bucket.run()
    assert not result.success
    [said] = failures(result)
    assert said.startswith(f"no API call made: bucket {pipeline_with_bucket.lake.bucket_url}")
    assert "Could not connect" in said and "testing-secret-value-3f9c" not in said
    assert pipeline_with_bucket.server.stats.total_requests == before
    assert not pipeline_with_bucket.lake.warehouse_path.exists()
    assert not pipeline_with_bucket.lake.raw_dates()


def stop_once_published(server: ThreadedMotoServer, lake: Lake) -> threading.Thread:
    """Stops the S3 server as soon as tonight's warehouse is published here (the night's
    Iceberg commit, before the publish, went to the bucket)."""

    def watch() -> None:
        while not lake.warehouse_path.exists():
            time.sleep(0.01)
        server.stop()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_bucket_down_after_the_local_publish_is_caught_up_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    org = generate_org(customers=20, badges=10, seed=5, as_of=today())
    for pipeline in start_pipeline(tmp_path, org):
        with started_s3() as server:  # the port the system gave it, taken again below
            port = int(server.endpoint_url.rsplit(":", 1)[1])
            for name, value in server.environment().items():
                monkeypatch.setenv(name, value)
            bucket = new_bucket(server)
            night = with_bucket(pipeline, tmp_path / "data", bucket)
            stop_once_published(server.moto, night.lake)
            result = night.run()
        assert not result.success
        [said] = failures(result)
        assert said.startswith(f"{today()} is published here but not in the bucket: bucket")
        assert said.endswith("the next run uploads it first")
        assert night.query("SELECT max(snapshot_date) FROM main.snapshot_info") == [(today(),)]

        code, lines = status_of(night.lake)  # the bucket is still down
        assert code == 1 and f"BUCKET: bucket {bucket.url}" in lines

        with started_s3(port):  # the same store, back up
            code, lines = status_of(night.lake)
            assert code == 1
            assert f"behind by 1 night(s): {today().isoformat()}" in lines
            assert night.run().success
            code, lines = status_of(night.lake)
            assert f"bucket {bucket.url}: up to date" in lines
            pointer = json.loads(bucket.read("latest.json"))
            assert pointer["snapshot_date"] == today().isoformat()
            day = f"snapshot_date={today().isoformat()}"
            assert f"lake/raw/{day}/_state/night.json" in bucket.objects()


def test_a_replay_of_a_date_this_host_never_had_restores_it_from_the_bucket(
    tmp_path: Path, first_night: tuple[Pipeline, int], bucket: StoreBucket
):
    pipeline_with_bucket, _ = first_night
    replayer = with_bucket(pipeline_with_bucket, tmp_path / "replayer", bucket)
    result = materialize(
        ALL_ASSETS,
        partition_key=today().isoformat(),
        resources={
            "capillary_api": replayer.api(),
            "lake": LakeResource(data_dir=str(replayer.lake.root), bucket_url=bucket.url),
            "bucket": BucketResource(),
        },
        run_config={"ops": {"raw_api_responses": {"config": {"replay": True}}}},
        instance=instance_offering(today()),
        raise_on_error=False,
    )
    assert result.success
    for table in TABLES:
        assert (
            _differences(
                pipeline_with_bucket.lake.warehouse_path, replayer.lake.warehouse_path, table
            )
            == 0
        ), table


def test_a_fresh_host_restores_from_the_bucket_and_runs_the_night_a_kept_host_runs(
    tmp_path: Path, first_night: tuple[Pipeline, int], bucket: StoreBucket
):
    pipeline_with_bucket, full_night = first_night
    stats = pipeline_with_bucket.server.stats
    add_one_earn(pipeline_with_bucket)
    kept = with_bucket(pipeline_with_bucket, pipeline_with_bucket.lake.root, None)
    shutil.copytree(kept.lake.root, tmp_path / "kept")  # the host that never lost its disk
    kept = with_bucket(kept, tmp_path / "kept", None)

    start = stats.total_requests
    assert kept.run().success
    kept_requests = stats.total_requests - start
    fresh = with_bucket(pipeline_with_bucket, tmp_path / "fresh-host", bucket)
    start = stats.total_requests
    result = fresh.run()
    fresh_requests = stats.total_requests - start

    assert result.success
    assert fresh_requests == kept_requests < 0.6 * full_night  # incremental, not a full pull
    for table in TABLES:
        assert _differences(kept.lake.warehouse_path, fresh.lake.warehouse_path, table) == 0, table


def stop_mid_upload(server: ThreadedMotoServer, bucket: StoreBucket, lake: Lake, before: str):
    """Stops the S3 server once the first file of a night sealed after `before` is in the
    bucket's Iceberg tables: the night's commit is under way."""

    def watch() -> None:
        while True:
            note = (
                read_night_note(lake.raw_dir(today())) if lake.raw_dir(today()).is_dir() else None
            )
            if note is not None and note.night_id != before:
                break
            time.sleep(0.01)
        while not any(note.night_id in key for key in bucket.objects() if "/data/" in key):
            time.sleep(0.002)
        server.stop()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_bucket_stopped_mid_commit_leaves_the_tables_at_their_snapshot_and_the_next_run_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from pyiceberg.catalog.sql import SqlCatalog

    org = generate_org(customers=20, badges=10, seed=9, as_of=today())
    for pipeline in start_pipeline(tmp_path, org):
        with started_s3() as server:  # the port the system gave it, taken again below
            port = int(server.endpoint_url.rsplit(":", 1)[1])
            for name, value in server.environment().items():
                monkeypatch.setenv(name, value)
            bucket = new_bucket(server)
            night = with_bucket(pipeline, tmp_path / "data", bucket)
            assert night.run().success
            first = read_night_note(night.lake.raw_dir(today())).night_id
            add_one_earn(night)
            watcher = stop_mid_upload(server.moto, bucket, night.lake, first)
            stopped = night.run()
            watcher.join(timeout=5)
        assert not stopped.success
        [said] = failures(stopped)
        assert said.startswith("the Iceberg catalog 'badges' (sql, sqlite:///"), said
        second = read_night_note(night.lake.raw_dir(today())).night_id
        assert night.query("SELECT night_id FROM main.snapshot_info") == [(first,)]

        with started_s3(port):  # the same store, back up
            catalog = SqlCatalog(
                "badges",
                uri=f"sqlite:///{night.lake.lake_dir / 'catalog.sqlite'}",
                **{"s3.endpoint": server.endpoint_url, "s3.region": server.region},
            )
            nights = {
                name: catalog.load_table(("badges", name))
                .current_snapshot()
                .summary["badges.night-id"]
                for name in TABLES
            }
            assert set(nights.values()) <= {first, second}
            assert first in nights.values()  # the tables the commit had not reached
            requests = night.server.stats.total_requests
            assert night.run().success
            assert night.server.stats.total_requests == requests  # the sealed night, no call
            for name in TABLES:
                table = catalog.load_table(("badges", name))
                assert table.current_snapshot().summary["badges.night-id"] == second, name
                (count,) = night.query(f"SELECT count(*) FROM main.{name}")[0]
                assert table.scan().to_arrow().num_rows == count, name
