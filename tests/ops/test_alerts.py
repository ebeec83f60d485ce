"""Alerts reach a webhook on 127.0.0.1: a failed nightly run, a stale warehouse, and a webhook
that is down, slow or refusing never breaking the sensor that posts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import (
    DagsterInstance,
    Definitions,
    Failure,
    build_run_status_sensor_context,
    build_sensor_context,
    in_process_executor,
    job,
    op,
)

from assets.bucket import bucket_restore
from assets.extract import raw_api_responses
from assets.warehouse import warehouse_assets
from pipelines.definitions import nightly_snapshot
from pipelines.lake import Lake
from pipelines.lake.tables import TABLES
from pipelines.ops.alerts import post_alert
from pipelines.ops.nightly import NIGHTLY_JOB
from pipelines.ops.resources import BucketResource, CapillaryApiResource, LakeResource
from pipelines.ops.sensors import nightly_failure_alert, warehouse_freshness_alert
from pipelines.warehouse.loader import write_snapshot_info
from tests.nights import instance_offering
from tests.ops.conftest import today
from tests.ops.receiver import Receiver, webhook_receiver

UI = "http://dagster.example:3000"


def past() -> dt.date:
    return today() - dt.timedelta(days=3)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with webhook_receiver() as started:
        monkeypatch.setenv("BADGES_ALERT_WEBHOOK", started.url)
        monkeypatch.setenv("BADGES_UI_URL", UI)
        monkeypatch.delenv("BADGES_STALE_AFTER_HOURS", raising=False)
        yield started


def failed_nightly_run(data_dir: Path, instance: DagsterInstance):
    """A real run of the nightly job that fails: a past date without a raw archive."""
    definitions = Definitions(
        assets=[bucket_restore, raw_api_responses, *warehouse_assets],
        jobs=[nightly_snapshot],
        resources={
            "capillary_api": CapillaryApiResource(),
            "lake": LakeResource(data_dir=str(data_dir)),
            "bucket": BucketResource(),
        },
        executor=in_process_executor,
    )
    job = definitions.resolve_job_def(NIGHTLY_JOB)
    result = job.execute_in_process(
        instance=instance_offering(past(), instance=instance),
        partition_key=past().isoformat(),
        raise_on_error=False,
    )
    assert not result.success
    return result


def evaluate_failure_alert(result, instance: DagsterInstance) -> None:
    """Runs the run-failure sensor on a failed run, as the daemon would."""
    context = build_run_status_sensor_context(
        sensor_name="nightly_failure_alert",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    )
    nightly_failure_alert(context)


def test_a_failed_night_posts_job_partition_reason_and_link(tmp_path: Path, receiver: Receiver):
    with DagsterInstance.ephemeral() as instance:
        result = failed_nightly_run(tmp_path / "data", instance)
        evaluate_failure_alert(result, instance)

    assert len(receiver.posts) == 1
    text = receiver.texts[0]
    assert f"{NIGHTLY_JOB} failed for {past()}" in text
    assert f"raw_api_responses: no raw archive for {past()}" in text  # the failed step's message
    assert f"{UI}/runs/{result.run_id}" in text
    # `badges run` and tests execute in process: nothing will retry such a run
    assert f"badges run --date {past()}" in text


def test_a_failed_run_of_another_job_posts_nothing(receiver: Receiver):
    @op
    def refuse() -> None:
        raise Failure("not a night")

    @job
    def another_job() -> None:
        refuse()

    with DagsterInstance.ephemeral() as instance:
        result = another_job.execute_in_process(instance=instance, raise_on_error=False)
        evaluate_failure_alert(result, instance)
    assert not result.success
    assert receiver.posts == []


def publish_snapshot_info(lake: Lake, loaded_at: dt.datetime) -> None:
    lake.root.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(lake.warehouse_path)) as con:
        write_snapshot_info(con, loaded_at.date(), {name: 1 for name in TABLES})
        con.execute("UPDATE main.snapshot_info SET loaded_at = ?", [loaded_at])


def freshness_tick(lake: Lake, cursor: str | None) -> str | None:
    context = build_sensor_context(
        cursor=cursor,
        resources={"lake": LakeResource(data_dir=str(lake.root)), "bucket": BucketResource()},
    )
    warehouse_freshness_alert(context)
    return context.cursor


def test_a_stale_warehouse_alerts_once_per_episode(tmp_path: Path, receiver: Receiver):
    lake = Lake(tmp_path / "data")
    now = dt.datetime.now(dt.UTC)
    publish_snapshot_info(lake, now - dt.timedelta(hours=30))

    cursor = freshness_tick(lake, None)
    assert len(receiver.posts) == 1
    assert "warehouse is stale" in receiver.texts[0]
    assert "30 h 0 min ago (limit 26 h)" in receiver.texts[0]
    for _ in range(3):  # later ticks of the same episode stay quiet
        cursor = freshness_tick(lake, cursor)
    assert len(receiver.posts) == 1

    publish_snapshot_info(lake, now)  # the next night published
    cursor = freshness_tick(lake, cursor)
    assert len(receiver.posts) == 2 and "fresh again" in receiver.texts[1]
    freshness_tick(lake, cursor)
    assert len(receiver.posts) == 2


def test_the_stale_limit_is_configurable(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    lake = Lake(tmp_path / "data")
    publish_snapshot_info(lake, dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    freshness_tick(lake, None)
    assert receiver.posts == []
    monkeypatch.setenv("BADGES_STALE_AFTER_HOURS", "2")
    freshness_tick(lake, None)
    assert len(receiver.posts) == 1 and "(limit 2 h)" in receiver.texts[0]


def test_nothing_published_is_stale(tmp_path: Path, receiver: Receiver):
    freshness_tick(Lake(tmp_path / "data"), None)
    assert len(receiver.posts) == 1 and "no snapshot is published" in receiver.texts[0]


def test_a_webhook_that_fails_or_hangs_never_raises(receiver: Receiver, caplog):
    receiver.status = 500
    assert post_alert("night failed") is False
    assert "HTTP 500" in caplog.text

    # The receiver would answer 200 after 3 s: False is the timeout giving up before that.
    receiver.status, receiver.delay_seconds = 200, 3.0
    assert post_alert("night failed", timeout=0.5) is False
    assert "ReadTimeout" in caplog.text

    assert post_alert("night failed", webhook="http://127.0.0.1:1/hook") is False
    assert "alert not posted" in caplog.text
    assert "secret-token" not in caplog.text  # the webhook's path is a credential


def test_no_secret_reaches_an_alert(receiver: Receiver, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CAPILLARY_PASSWORD", "pa55-word-never-shown")
    monkeypatch.setenv("CAPILLARY_CLIENT_SECRET", "client-secret-never-shown")
    text = (
        "reason: https://user:pa55-word-never-shown@api.example/x refused "
        "client-secret-never-shown; Authorization: Basic c2FuZGJveDpwYXNz"
    )
    assert post_alert(text) is True
    sent = receiver.texts[0]
    for secret in ("pa55-word-never-shown", "client-secret-never-shown", "c2FuZGJveDpwYXNz"):
        assert secret not in sent
    assert "reason: https://***@api.example/x refused ***" in sent
