"""Replays rebuild snapshots from the raw archive: a changed normalization rule reaches every
replayed date, and not one request reaches the API."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from dagster import materialize

from pipelines.lake import Lake
from pipelines.normalize import flatten
from pipelines.normalize.fields import Converted, Field
from pipelines.ops.resources import BucketResource, LakeResource
from pipelines.sandbox import generate_org
from tests.e2e.conftest import ALL_ASSETS, Pipeline, start_pipeline, today
from tests.nights import instance_offering


def archived_dates() -> list[dt.date]:
    return [today() - dt.timedelta(days=2), today() - dt.timedelta(days=1), today()]


REPLAY_CONFIG = {"ops": {"raw_api_responses": {"config": {"replay": True}}}}


def materialize_date(
    pipeline: Pipeline, snapshot_date: dt.date, run_config: dict | None = None, assets=ALL_ASSETS
):
    return materialize(
        assets,
        partition_key=snapshot_date.isoformat(),
        resources={
            "capillary_api": pipeline.api(),
            "lake": LakeResource(data_dir=str(pipeline.lake.root)),
            "bucket": BucketResource(),
        },
        run_config=run_config,
        instance=instance_offering(snapshot_date),
        raise_on_error=False,
    )


def failure_descriptions(result: Any) -> list[str]:
    return [
        event.step_failure_data.user_failure_data.description
        for event in result.all_events
        if event.is_step_failure and event.step_failure_data.user_failure_data is not None
    ]


def badge_names(lake: Lake, snapshot_date: dt.date) -> dict[str, str]:
    rows = pq.read_table(lake.table_dir("badges", snapshot_date), columns=["badge_id", "name"])
    return {row["badge_id"]: row["name"] for row in rows.to_pylist()}


def _upper_text(value: Any) -> Converted:
    return (value.upper(), None) if isinstance(value, str) else (None, "wrong type")


def upper_cased_badge_names() -> tuple[Field, ...]:
    """BADGE_FIELDS with the `name` column upper-cased: the changed normalization rule."""
    return tuple(
        Field("name", field.keys, _upper_text) if field.column == "name" else field
        for field in flatten.BADGE_FIELDS
    )


def archive_under(lake: Lake, source: dt.date, target: dt.date) -> None:
    shutil.copytree(lake.raw_dir(source), lake.raw_dir(target))


@pytest.fixture
def replay_pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    org = generate_org(customers=30, badges=15, seed=17, as_of=today())
    yield from start_pipeline(tmp_path, org)


def test_replay_applies_a_changed_rule_to_every_archived_date_without_requests(
    replay_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
):
    lake = replay_pipeline.lake
    assert materialize_date(replay_pipeline, today()).success
    for past in archived_dates()[:-1]:
        archive_under(lake, today(), past)
    original = badge_names(lake, today())
    assert any(name != name.upper() for name in original.values())  # the rule changes something
    requests_before = replay_pipeline.server.stats.total_requests

    monkeypatch.setattr(flatten, "BADGE_FIELDS", upper_cased_badge_names())
    for snapshot_date in archived_dates():
        result = materialize_date(replay_pipeline, snapshot_date, REPLAY_CONFIG)
        assert result.success, failure_descriptions(result)
        extract = result.asset_materializations_for_node("raw_api_responses")[0].metadata
        assert extract["replayed_from_archive"].value is True

    assert replay_pipeline.server.stats.total_requests == requests_before
    expected = {badge_id: name.upper() for badge_id, name in original.items()}
    for snapshot_date in archived_dates():
        assert badge_names(lake, snapshot_date) == expected, snapshot_date
    published = dict(replay_pipeline.query("SELECT badge_id, name FROM main.badges"))
    assert published == expected
    assert replay_pipeline.query("SELECT snapshot_date FROM main.snapshot_info") == [(today(),)]


def test_past_date_without_archive_fails_and_writes_nothing(replay_pipeline: Pipeline):
    past = today() - dt.timedelta(days=5)

    result = materialize_date(replay_pipeline, past)

    assert not result.success
    messages = failure_descriptions(result)
    assert len(messages) == 1 and "serves only current state" in messages[0], messages
    assert past.isoformat() in messages[0]
    assert replay_pipeline.server.stats.total_requests == 0
    assert not replay_pipeline.lake.root.exists()


def test_an_older_backfill_rebuilds_its_lake_but_keeps_the_newer_snapshot_published(
    replay_pipeline: Pipeline,
):
    lake = replay_pipeline.lake
    assert materialize_date(replay_pipeline, today()).success
    yesterday = today() - dt.timedelta(days=1)
    archive_under(lake, today(), yesterday)

    result = materialize_date(replay_pipeline, yesterday)
    assert result.success, failure_descriptions(result)
    published = result.asset_materializations_for_node("published_warehouse")[0].metadata
    assert published["published"].value is False
    assert published["kept_snapshot"].value == today().isoformat()
    assert badge_names(lake, yesterday) == badge_names(lake, today())  # its lake was rebuilt
    assert replay_pipeline.query("SELECT snapshot_date FROM main.snapshot_info") == [(today(),)]
    assert not list(lake.staging_dir.glob("*.duckdb"))  # its staging file is gone
    report = result.asset_materializations_for_node("earn_report")[0].metadata
    assert "skipped" in report
