"""Launch the nightly job for one day through Dagster and summarize what it did."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from dagster import DagsterEventType, DagsterInstance, MetadataValue

from assets.snapshot_dates import offer_nights
from pipelines.night.summary import NightSummary
from pipelines.normalize.drift_report import describe_drift, merge_coverage, merge_entries
from pipelines.ops.launch import Clock, launch_tags, utc_now
from pipelines.ops.settings import data_directory

QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class RunOutcome:
    snapshot_date: dt.date
    run_id: str
    published: bool
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)  # asset key -> values
    failures: list[str] = field(default_factory=list)
    check_warnings: list[str] = field(default_factory=list)  # non-blocking checks not passed

    @property
    def succeeded(self) -> bool:
        """Published, and every step after the publish (the bucket copy) done too."""
        return self.published and not self.failures

    def describe(self) -> str:
        if not self.published:
            reasons = "\n".join(f"  {f}" for f in self.failures) or "  (no step reported why)"
            return f"snapshot {self.snapshot_date} NOT published (run {self.run_id}):\n{reasons}"
        extract = self.metadata.get("raw_api_responses", {})
        lines = [f"snapshot {self.snapshot_date} published (run {self.run_id})"]
        if extract.get("replayed_from_archive"):
            lines.append("  rebuilt from the raw archive: no API call")
            lines += [f"  {line}" for line in self._lake_drift()]
        else:
            lines += NightSummary.from_metadata(extract[NightSummary.METADATA_KEY]).describe()
        lines += [f"  check warned: {warning}" for warning in self.check_warnings]
        lines.append("  rows per table (the published warehouse):")
        for key, values in sorted(self.metadata.items()):
            if key.startswith("warehouse/"):
                table = key.removeprefix("warehouse/")
                lines.append(f"    {table:<28}{values.get('rows', 0):>12,}")
        published = self.metadata.get("published_warehouse", {})
        lines.append(f"  warehouse: {published.get('path')}")
        retention = self.metadata.get("local_retention", {})
        if retention.get("pruned"):
            kept = retention.get("keep_nights")
            pruned = ", ".join(retention["pruned"])
            lines.append(f"  local retention ({kept} nights kept) pruned: {pruned}")
        report = self.metadata.get("earn_report", {})
        if report.get("path"):
            lines.append(f"  earn report: {report['path']}")
        lines += self._bucket_lines()
        return "\n".join(lines)

    def _lake_drift(self) -> list[str]:
        """The drift report of a replay: its lake tables' (the archive's answers, read again)."""
        lake = [values for key, values in self.metadata.items() if key.startswith("lake/")]
        if not lake:
            return []
        return describe_drift(
            *(
                merge_entries([values.get(kind) or {} for values in lake])
                for kind in ("new_keys", "wrong_types", "repeats", "conflicts", "disagreements")
            ),
            merge_coverage([values.get("coverage") or {} for values in lake]),
        )

    def _bucket_lines(self) -> list[str]:
        copy = self.metadata.get("bucket_copy")
        if copy and "objects" in copy:
            nights = ", ".join(copy["nights"]) or "nothing new"
            size = copy["bytes"] / 2**20
            return [
                f"  bucket: {copy['bucket']}: {nights} uploaded, {copy['objects']} objects, "
                f"{size:.1f} MiB in {copy['seconds']:.1f} s"
            ]
        return [f"  FAILED after the publish: {f}" for f in self.failures]


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, MetadataValue) else value


def _is_check_failure(event: Any) -> bool:
    """A step failed for a blocking check, whose own description was reported already."""
    error = event.step_failure_data.error
    return error is not None and error.cls_name == "DagsterAssetCheckFailedError"


def _failure_message(event: Any) -> str:
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error is not None else "unknown error"


def run_snapshot(
    snapshot_date: dt.date,
    replay: bool = False,
    full_refresh: bool = False,
    clock: Clock = utc_now,
    **night: Any,
) -> RunOutcome:
    """Materializes the nightly job for the date, launched at `clock()` (which decides the
    night's mode); `night` holds extract options (rate_limit, max_failed_share,
    accept_drop, rotation_nights, restart), unset when None."""
    from pipelines.definitions import NIGHTLY_JOB, defs

    config = {"replay": replay, "full_refresh": full_refresh}
    config |= {name: value for name, value in night.items() if value is not None}
    ops = {step: {"config": config} for step in ("bucket_restore", "raw_api_responses")}
    job = defs.resolve_job_def(NIGHTLY_JOB)
    with DagsterInstance.get() as instance:
        offer_nights(instance, [*data_directory().raw_dates(), snapshot_date])
        result = job.execute_in_process(
            instance=instance,
            partition_key=snapshot_date.isoformat(),
            run_config={**QUIET_CONSOLE, "ops": ops},
            # The daemon cannot relaunch a run executed in this process; run it again by
            # hand instead (it resumes from its checkpoint).
            tags={"dagster/max_retries": "0", **launch_tags(clock)},
            raise_on_error=False,
        )
    outcome = RunOutcome(snapshot_date, result.run_id, published=False)
    for event in result.all_events:
        if event.is_step_materialization:
            materialization = event.step_materialization_data.materialization
            key = materialization.asset_key.to_user_string()
            outcome.metadata[key] = {k: _plain(v) for k, v in materialization.metadata.items()}
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            if not evaluation.passed and evaluation.blocking:
                outcome.failures.append(f"{evaluation.check_name}: {evaluation.description}")
            elif not evaluation.passed:
                asset = evaluation.asset_key.to_user_string()
                outcome.check_warnings.append(
                    f"{asset} {evaluation.check_name}: {evaluation.description}"
                )
        elif event.is_step_failure and not _is_check_failure(event):
            outcome.failures.append(f"{event.step_key}: {_failure_message(event)}")
    outcome.failures = _without_repeats(outcome.failures)
    outcome.published = "published_warehouse" in outcome.metadata
    return outcome


def _without_repeats(failures: list[str]) -> list[str]:
    """A check's verdict that a step's failure repeats (the volume gate's, as the extract
    step stops in its words) is said once, by the step, last."""
    return [
        line
        for n, line in enumerate(failures)
        if not any(line.split(": ", 1)[-1] in later for later in failures[n + 1 :])
    ]
