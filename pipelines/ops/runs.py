"""What the Dagster instance knows about the nightly job's runs: outcomes, reasons, workers."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    EventLogEntry,
    RunRecord,
    RunsFilter,
)

from pipelines.lake import Lake
from pipelines.lake.iceberg import catalog_state
from pipelines.lake.mirror import bucket_state
from pipelines.lake.space import disk_space, estimate_need
from pipelines.lake.tables import TABLES
from pipelines.normalize.drift_report import merge_coverage, merge_entries
from pipelines.ops.dagster_private import InstigatorStatus, InstigatorType
from pipelines.ops.freshness import WarehouseUnreadable, read_published, stale_after_hours
from pipelines.ops.liveness import process_alive
from pipelines.ops.nightly import (
    DATA_DIR_TAG,
    EXTRACT_TAG,
    NIGHT_POOL,
    NIGHTLY_JOB,
    NIGHTLY_SCHEDULE,
)
from pipelines.ops.settings import bucket_access, data_directory, iceberg_catalog
from pipelines.ops.status import RunSummary, StatusReport

PARTITION_TAG = "dagster/partition"
RETRY_NUMBER_TAG = "dagster/retry_number"
WILL_RETRY_TAG = "dagster/will_retry"
FINISHED = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
IN_PROGRESS = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]
DAEMON_SILENT_AFTER_SECONDS = 300  # the daemon beats every 30 s


def step_failure_message(entry: EventLogEntry) -> str:
    """`step: message` of a STEP_FAILURE event, the innermost error when no description."""
    data = entry.get_dagster_event().step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        message = data.user_failure_data.description
    else:
        error = data.error
        while error is not None and error.cause is not None:
            error = error.cause
        message = error.message.strip() if error is not None else "unknown error"
    return f"{entry.step_key}: {message}"


def failure_reason(
    step_failures: Iterable[EventLogEntry], run_failure: EventLogEntry | None
) -> str:
    """Why a run failed: its failed steps' messages, else the run failure's own message."""
    reasons = [step_failure_message(entry) for entry in step_failures]
    if reasons:
        return "; ".join(reasons)
    if run_failure is not None:
        event = run_failure.dagster_event
        return (event.message if event and event.message else run_failure.user_message).strip()
    return "no failure event recorded"


def run_failure_reason(instance: DagsterInstance, run_id: str) -> str:
    steps = instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)
    runs = instance.all_logs(run_id, of_type=DagsterEventType.RUN_FAILURE)
    return failure_reason(steps, runs[-1] if runs else None)


def attempt_number(run: DagsterRun) -> int:
    return int(run.tags.get(RETRY_NUMBER_TAG, "0")) + 1


def retry_follows(run: DagsterRun) -> bool:
    """Will the daemon retry this failed run? Only runs launched from a code location can be
    retried: `badges run` executes in process, so its runs carry no origin to relaunch."""
    return run.tags.get(WILL_RETRY_TAG) == "true" and run.remote_job_origin is not None


def worker_pid(instance: DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The pid the run's process reported, with when it did; None before it has."""
    reported = None
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        data = entry.get_dagster_event().engine_event_data
        pid = data.metadata.get("pid") if data is not None else None
        if pid is not None:
            reported = (int(pid.value), entry.timestamp)
    return reported


def worker_gone(instance: DagsterInstance, run_id: str) -> int | None:
    """The pid of the run's process when that process no longer exists, else None."""
    found = worker_pid(instance, run_id)
    if found is None or process_alive(*found):
        return None
    return found[0]


def extracting_runs(instance: DagsterInstance) -> list[RunSummary]:
    """Runs of a night now: in progress, tagged badges/extract or touching the night's pool
    (an asset-graph launch), their process alive."""
    records = instance.get_run_records(
        RunsFilter(statuses=[DagsterRunStatus.STARTING, DagsterRunStatus.STARTED])
    )
    return [
        _summary(instance, record)
        for record in records
        if _runs_a_night(record.dagster_run)
        and (found := worker_pid(instance, record.dagster_run.run_id))
        and process_alive(*found)
    ]


def _runs_a_night(run: DagsterRun) -> bool:
    pools = run.run_op_concurrency.all_pools if run.run_op_concurrency else None
    return run.tags.get(EXTRACT_TAG) == "1" or NIGHT_POOL in (pools or ())


def is_nightly(record: RunRecord) -> bool:
    """A nightly attempt: the night of the day it was started, not a replay of it. A run of
    an earlier date (a replay, a backfill) rebuilds a past night instead."""
    run = record.dagster_run
    config = run.run_config.get("ops", {}).get("raw_api_responses", {}).get("config", {})
    started = record.create_timestamp.astimezone(dt.UTC).date()
    return run.tags.get(PARTITION_TAG) == started.isoformat() and not config.get("replay")


def _summary(instance: DagsterInstance, record: RunRecord) -> RunSummary:
    run = record.dagster_run

    def moment(timestamp: float | None) -> dt.datetime | None:
        return dt.datetime.fromtimestamp(timestamp, dt.UTC) if timestamp else None

    reason = None
    if run.status == DagsterRunStatus.FAILURE:
        reason = run_failure_reason(instance, run.run_id)
    elif run.status == DagsterRunStatus.STARTED and (pid := worker_gone(instance, run.run_id)):
        reason = f"its process (pid {pid}) is gone; run monitoring will mark it failed"
    return RunSummary(
        run.run_id,
        run.status.value,
        run.tags.get(PARTITION_TAG),
        moment(record.start_time),
        moment(record.end_time),
        reason,
        nightly=is_nightly(record),
    )


@dataclass(frozen=True)
class DataDirRuns:
    """The nightly job's runs over one data directory, as `badges status` judges them."""

    last_nightly: RunSummary | None  # the latest finished nightly attempt
    in_progress: RunSummary | None
    failed_rebuilds: list[RunSummary]  # past nights whose latest rebuild failed


def data_dir_runs(instance: DagsterInstance, lake: Lake, recent: int = 50) -> DataDirRuns:
    """The runs tagged with this data directory: runs of another one sharing the Dagster
    instance are not this warehouse's."""
    own = {DATA_DIR_TAG: str(lake.root)}
    finished = instance.get_run_records(
        RunsFilter(job_name=NIGHTLY_JOB, statuses=FINISHED, tags=own), limit=recent
    )
    running = instance.get_run_records(
        RunsFilter(job_name=NIGHTLY_JOB, statuses=IN_PROGRESS, tags=own), limit=1
    )
    nightly = next((record for record in finished if is_nightly(record)), None)
    latest_rebuilds: dict[str, RunRecord] = {}
    for record in finished:  # newest first: the first of a partition is its latest
        if not is_nightly(record):
            latest_rebuilds.setdefault(record.dagster_run.tags.get(PARTITION_TAG) or "", record)
    failed = [
        _summary(instance, record)
        for record in latest_rebuilds.values()
        if record.dagster_run.status == DagsterRunStatus.FAILURE
    ]
    return DataDirRuns(
        _summary(instance, nightly) if nightly else None,
        _summary(instance, running[0]) if running else None,
        failed,
    )


def schedule_note(instance: DagsterInstance, now: float | None = None) -> str | None:
    """Why the next nightly run might not start: the schedule is stopped, or no daemon runs."""
    states = instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
    for state in states:
        if state.name == NIGHTLY_SCHEDULE and state.status == InstigatorStatus.STOPPED:
            return "the schedule is stopped (start it in the UI): no nightly run will start"
    beat = instance.get_daemon_heartbeats().get("SCHEDULER")
    silent = (now or time.time()) - beat.timestamp if beat else None
    if silent is None or silent > DAEMON_SILENT_AFTER_SECONDS:
        return "no dagster-daemon is running for this instance: the schedule will not fire"
    return None


def snapshot_drift(instance: DagsterInstance, partition: str) -> tuple | None:
    """The drift report (new keys, wrong types, repeats, conflicts, disagreements, mapping
    coverage) the lake tables of a snapshot last recorded; None when no materialization of
    them records one."""
    found: list[dict] = []
    for table in TABLES:
        records = instance.fetch_materializations(
            AssetRecordsFilter(AssetKey(["lake", table]), asset_partitions=[partition]), limit=1
        ).records
        materialization = records[0].asset_materialization if records else None
        metadata = materialization.metadata if materialization is not None else {}
        if "new_keys" in metadata:
            found.append({name: entry.value for name, entry in metadata.items()})
    if not found:
        return None
    return (
        *(
            merge_entries([values.get(kind) or {} for values in found])
            for kind in ("new_keys", "wrong_types", "repeats", "conflicts", "disagreements")
        ),
        merge_coverage([values.get("coverage") or {} for values in found]),
    )


def status_report(instance: DagsterInstance, lake: Lake, now: dt.datetime) -> StatusReport:
    """What `badges status` prints: the published snapshot, the last runs, the schedule."""
    published, unreadable = None, None
    try:
        published = read_published(lake.warehouse_path)
    except WarehouseUnreadable as error:
        unreadable = str(error)
    runs = data_dir_runs(instance, lake)
    drift = snapshot_drift(instance, published.snapshot_date.isoformat()) if published else None
    return StatusReport(
        now=now,
        warehouse=lake.warehouse_path,
        published=published,
        stale_after_hours=stale_after_hours(),
        last_finished=runs.last_nightly,
        in_progress=runs.in_progress,
        failed_rebuilds=runs.failed_rebuilds,
        schedule_note=schedule_note(instance, now.timestamp()),
        unreadable=unreadable,
        bucket=bucket_state(lake, bucket_access()),
        disk=disk_space(lake, estimate_need(lake)),
        drift=drift,
        iceberg=catalog_state(iceberg_catalog(lake, bucket_access()))[1:],
    )


def print_status() -> int:
    """`badges status`: prints the report; 0 when fresh and the last run succeeded, else 1."""
    with DagsterInstance.get() as instance:
        report = status_report(instance, data_directory(), dt.datetime.now(dt.UTC))
    print("\n".join(report.lines()))
    return report.exit_code
