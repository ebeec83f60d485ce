"""The bucket mirror over moto's S3 server: what is pending, what a re-publish replaces, and
that a working copy never prunes a night only it holds."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest

from pipelines.lake import Lake
from pipelines.lake.durable import write_text
from pipelines.lake.mirror import mark_pending, mirror_of
from pipelines.lake.objectstore import BucketError
from pipelines.night.retention import not_in_bucket
from pipelines.ops.settings import bucket_access
from tests.services.s3 import S3Server

DAYS = [dt.date(2026, 11, 29) + dt.timedelta(days=i) for i in range(3)]


@pytest.fixture
def lake(tmp_path: Path, s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> Lake:
    for name, value in s3.environment().items():
        monkeypatch.setenv(name, value)
    bucket = f"mirror-{uuid.uuid4().hex[:10]}"
    s3.filesystem().create_dir(bucket)
    return Lake(tmp_path / "data", f"s3://{bucket}/nightly")


def publish(lake: Lake, day: dt.date, parts: dict[str, str]) -> None:
    """A night's raw archive and one table partition, as files (no warehouse)."""
    for name, text in parts.items():
        write_text(text, lake.raw_dir(day) / name)
    write_text("rows", lake.table_dir("badges", day) / "part-0.parquet")
    mark_pending(lake, day)


def test_pending_nights_are_uploaded_with_their_manifest_and_then_no_longer_pending(lake: Lake):
    mirror = mirror_of(lake, bucket_access())
    for day in DAYS[:2]:
        publish(lake, day, {"responses-000001.parquet": f"answers of {day}"})
    assert mirror.pending() == DAYS[:2]
    sent = mirror.upload_pending()
    assert sent.dates == DAYS[:2] and sent.objects == 4
    assert mirror.pending() == [] and mirror.uploaded_dates() == DAYS[:2]
    manifest = json.loads(
        mirror.bucket.filesystem.open_input_stream(
            mirror.bucket.path(f"nights/snapshot_date={DAYS[0]}.json")
        ).read()
    )
    key = f"lake/raw/snapshot_date={DAYS[0]}/responses-000001.parquet"
    assert manifest["objects"][key]["size"] == len(f"answers of {DAYS[0]}")

    publish(lake, DAYS[2], {"responses-000001.parquet": "x"})
    assert not_in_bucket(mirror_of(lake, bucket_access()), lake.raw_dates()) == {DAYS[2]}


def test_a_night_published_again_replaces_its_objects_in_the_bucket(lake: Lake):
    mirror = mirror_of(lake, bucket_access())
    publish(lake, DAYS[0], {"responses-000001.parquet": "a", "responses-000002.parquet": "b"})
    mirror.upload_pending()
    (lake.raw_dir(DAYS[0]) / "responses-000002.parquet").unlink()
    publish(lake, DAYS[0], {"responses-000001.parquet": "again"})
    assert mirror.pending() == [DAYS[0]]
    mirror.upload_pending()
    raw = {k: v for k, v in mirror.bucket.list("lake/raw").items()}
    assert raw == {f"lake/raw/snapshot_date={DAYS[0]}/responses-000001.parquet": len("again")}


def test_a_fresh_directory_restores_whole_partitions_only(lake: Lake, tmp_path: Path):
    mirror = mirror_of(lake, bucket_access())
    publish(lake, DAYS[0], {"responses-000001.parquet": "a", "_state/night.json": "{}"})
    mirror.upload_pending()
    fresh = mirror_of(Lake(tmp_path / "fresh", lake.bucket_url), bucket_access())
    restored = fresh.restore_nights([DAYS[0]], raw=True, tables=False)
    assert restored.dates == [DAYS[0]] and restored.objects == 2
    assert fresh.lake.raw_dates() == [DAYS[0]]
    assert (fresh.lake.raw_dir(DAYS[0]) / "_state" / "night.json").read_text() == "{}"
    assert not fresh.lake.table_dir("badges", DAYS[0]).exists()


def test_an_unreachable_bucket_protects_every_night_and_names_itself(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
):
    for day in DAYS:
        publish(lake, day, {"responses-000001.parquet": "a"})
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: nobody
    assert not_in_bucket(mirror_of(lake, bucket_access()), DAYS) == set(DAYS)
    with pytest.raises(BucketError, match=f"bucket {lake.bucket_url}"):
        mirror_of(lake, bucket_access()).bucket.check()
