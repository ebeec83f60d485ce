"""When a run was launched, which decides a night's mode: its tag, else its creation in the
instance, and for a retry the run it retries. Never the clock of the step asking."""

from __future__ import annotations

import datetime as dt

from dagster import DagsterInstance, DagsterRun

from pipelines.ops.launch import LAUNCHED_AT_TAG, launch_tags, launched_at

LAST_SECOND = dt.datetime(2026, 12, 7, 23, 59, 59, tzinfo=dt.UTC)


def never() -> dt.datetime:
    raise AssertionError("the step's own clock was asked")


def test_a_tagged_run_was_launched_when_its_tag_says():
    tags = launch_tags(lambda: LAST_SECOND.astimezone(dt.timezone(dt.timedelta(hours=5))))
    assert tags == {LAUNCHED_AT_TAG: "2026-12-07T23:59:59+00:00"}
    with DagsterInstance.ephemeral() as instance:
        run = instance.add_run(DagsterRun(job_name="nightly", tags=tags))
        assert launched_at(run, instance, clock=never) == LAST_SECOND


def test_an_untagged_run_was_launched_when_it_was_created_and_its_retry_too():
    with DagsterInstance.ephemeral() as instance:
        first = instance.add_run(DagsterRun(job_name="nightly"))
        created = instance.get_run_record_by_id(first.run_id).create_timestamp
        created = created.replace(tzinfo=dt.UTC) if created.tzinfo is None else created
        retry = instance.add_run(
            DagsterRun(job_name="nightly", parent_run_id=first.run_id, root_run_id=first.run_id)
        )
        assert launched_at(first, instance, clock=never) == created
        assert launched_at(retry, instance, clock=never) == created
        assert created.tzinfo is not None and created.utcoffset() == dt.timedelta(0)
