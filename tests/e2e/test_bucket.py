"""The bucket as the system of record, against moto's S3 server on 127.0.0.1: a night lands in
it whole, a fresh host picks up where the lost one left off, and a bucket that is down stops
a night before its first call or is caught up by the next one."""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest
from dagster import DagsterInstance, materialize

from pipelines.lake import Lake
from pipelines.lake.tables import TABLES
from pipelines.ops.resources import LakeResource
from pipelines.sandbox import generate_org
from tests.e2e.conftest import ALL_ASSETS, TODAY, Pipeline, start_pipeline
from tests.e2e.test_cli import run_cli
from tests.e2e.test_faults import _differences
from tests.e2e.test_live_readers import add_one_earn, api_environment
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


@pytest.fixture
def bucket(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> StoreBucket:
    """A fresh bucket; this process's AWS variables point at its server."""
    made = new_bucket(s3)
    for name, value in s3.environment().items():
        monkeypatch.setenv(name, value)
    return made


def with_bucket(pipeline: Pipeline, root: Path, bucket: StoreBucket | None) -> Pipeline:
    """The same sandbox, another data directory (another host), with or without the bucket."""
    return dataclasses.replace(pipeline, lake=Lake(root, bucket.url if bucket else None))


@pytest.fixture
def pipeline_with_bucket(tmp_path: Path, bucket: StoreBucket) -> Iterator[Pipeline]:
    org = generate_org(customers=30, badges=14, seed=23, as_of=TODAY)
    for pipeline in start_pipeline(tmp_path, org):
        yield with_bucket(pipeline, tmp_path / "data", bucket)


def test_a_night_lands_in_the_bucket_whole_and_another_engine_reads_the_lake_from_it(
    pipeline_with_bucket: Pipeline, bucket: StoreBucket
):
    result = pipeline_with_bucket.run()
    assert result.success
    day = f"snapshot_date={TODAY.isoformat()}"
    objects = bucket.objects()
    lake = pipeline_with_bucket.lake
    for path in [*lake.raw_dir(TODAY).rglob("*"), *lake.lake_dir.glob(f"*/{day}/*")]:
        if path.is_file():
            assert objects[path.relative_to(lake.root).as_posix()] == path.stat().st_size
    assert f"lake/raw/{day}/_state/night.json" in objects  # the night record
    assert not [k for k in objects if ".building" in k]  # the checkpoint is gone once published
    manifest = json.loads(bucket.read(f"nights/{day}.json"))
    assert {k: v["size"] for k, v in manifest["objects"].items()} == {
        k: v for k, v in objects.items() if k.startswith(("lake/", "warehouse/"))
    }
    pointer = json.loads(bucket.read("latest.json"))
    assert pointer["snapshot_date"] == TODAY.isoformat()
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
        assert set(from_bucket.column("snapshot_date").to_pylist()) == {TODAY.isoformat()}


def test_a_fresh_host_restores_from_the_bucket_and_runs_the_night_a_kept_host_runs(
    tmp_path: Path, pipeline_with_bucket: Pipeline, bucket: StoreBucket
):
    stats = pipeline_with_bucket.server.stats
    start = stats.total_requests
    assert pipeline_with_bucket.run().success
    full_night = stats.total_requests - start
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_bucket_down_at_the_start_stops_the_night_before_its_first_call(
    tmp_path: Path, pipeline_with_bucket: Pipeline
):
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    (tmp_path / "host").mkdir()
    before = pipeline_with_bucket.server.stats.total_requests
    done = run_cli(
        tmp_path / "host",
        "run",
        **api_environment(pipeline_with_bucket),
        BADGES_BUCKET_URL="s3://badges-down/nightly",
        AWS_ENDPOINT_URL=down,
        AWS_ACCESS_KEY_ID="testing-access-key",
        AWS_SECRET_ACCESS_KEY="testing-secret-value-3f9c",
    )
    assert done.returncode == 1
    assert "NOT published" in done.stdout
    assert "no API call made: bucket s3://badges-down/nightly" in done.stdout
    assert "testing-secret-value-3f9c" not in done.stdout + done.stderr
    assert pipeline_with_bucket.server.stats.total_requests == before
    assert not Lake(tmp_path / "host" / "data").warehouse_path.exists()


def test_a_bucket_down_after_the_local_publish_is_caught_up_by_the_next_run(tmp_path: Path):
    port = free_port()
    org = generate_org(customers=20, badges=10, seed=5, as_of=TODAY)
    for pipeline in start_pipeline(tmp_path, org):
        with started_s3(port) as server:
            bucket = new_bucket(server)
            environment = {**api_environment(pipeline), **bucket.environment()}
            killed = run_cli(tmp_path, "run", **environment, BADGES_KILL_AT="upload")
            assert killed.returncode == -9  # the host went away between publish and upload
        lake = Lake(tmp_path / "data")
        published = lake.warehouse_path.stat().st_mtime_ns
        assert lake.raw_dir(TODAY).is_dir()

        status = run_cli(tmp_path, "status", **environment)  # the bucket is down now
        assert status.returncode == 1
        assert f"bucket {bucket.url}" in status.stdout
        refused = run_cli(tmp_path, "run", **environment)
        assert refused.returncode == 1
        assert "no API call made: bucket" in refused.stdout
        assert lake.warehouse_path.stat().st_mtime_ns == published  # still published

        with started_s3(port):  # the same store, back up
            status = run_cli(tmp_path, "status", **environment)
            assert status.returncode == 1
            assert f"behind by 1 night(s): {TODAY.isoformat()}" in status.stdout
            caught_up = run_cli(tmp_path, "run", **environment)
            assert caught_up.returncode == 0, caught_up.stdout + caught_up.stderr
            assert f"bucket: uploaded {TODAY.isoformat()}" in caught_up.stderr + caught_up.stdout
            status = run_cli(tmp_path, "status", **environment)
            assert "up to date" in status.stdout
            day = f"snapshot_date={TODAY.isoformat()}"
            pointer = json.loads(bucket.read("latest.json"))
            assert pointer["snapshot_date"] == TODAY.isoformat()
            assert f"nights/{day}.json" in bucket.objects()


def test_a_replay_of_a_date_this_host_never_had_restores_it_from_the_bucket(
    tmp_path: Path, pipeline_with_bucket: Pipeline, bucket: StoreBucket
):
    assert pipeline_with_bucket.run().success
    replayer = with_bucket(pipeline_with_bucket, tmp_path / "replayer", bucket)
    result = materialize(
        ALL_ASSETS,
        partition_key=TODAY.isoformat(),
        resources={
            "capillary_api": replayer.api(),
            "lake": LakeResource(data_dir=str(replayer.lake.root), bucket_url=bucket.url),
        },
        run_config={"ops": {"raw_api_responses": {"config": {"replay": True}}}},
        instance=DagsterInstance.ephemeral(),
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
