"""The night's figures as one typed record: the extract asset stores it in its metadata,
once whole (`METADATA_KEY`) and one key per figure for the UI, and `badges run` reads
the whole back to print the night's summary."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pipelines.extract.outcome import ExtractReport
from pipelines.extract.planning import NightPlan
from pipelines.lake.nightrecord import NightNote
from pipelines.normalize.drift_report import (
    CoverageEntries,
    DriftEntries,
    coverage_entries,
    describe_drift,
    describe_warnings,
    drift_entries,
)
from pipelines.normalize.normalizer import NormalizeReport

# The figures the night's record holds too, under the same names.
NOTED = ("customers", "customers_fetched", "rotation_nights", "oldest_fetched_on", "carried_from")


@dataclass
class NightSummary:
    METADATA_KEY: ClassVar[str] = "night_summary"

    extract: ExtractReport
    customers: int  # the night's population
    customers_fetched: int  # whose lists were fetched tonight
    rotation_nights: int
    oldest_fetched_on: str | None = None
    carried_from: str | None = None  # the snapshot carried customers' rows come from
    rows_carried: dict[str, int] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)  # NightPlan.as_metadata()
    # What the normalizer met (None: the night was not normalized to the end): its
    # warnings by kind, and the drift report, by source path.
    warnings: dict[str, int] | None = None
    new_keys: DriftEntries | None = None
    wrong_types: DriftEntries | None = None
    # entries repeated (one row), repeated with other values, second names that disagree;
    # and the objects of each kind that filled no typed column (docs/drift.md)
    repeats: DriftEntries | None = None
    conflicts: DriftEntries | None = None
    disagreements: DriftEntries | None = None
    coverage: CoverageEntries | None = None
    # the date of a sealed night published from its archive by this run, without a call
    resumed_from_archive: str | None = None
    # what happened to the data directory's files: a damaged file rebuilt, a part set aside
    file_warnings: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        plan: NightPlan,
        report: ExtractReport,
        note: NightNote,
        normalized: NormalizeReport | None = None,
    ) -> NightSummary:
        """The figures of a sealed night (and of its normalizing, when done)."""
        summary = cls(
            extract=report,
            plan=plan.as_metadata(),
            **{name: getattr(note, name) for name in NOTED},
        )
        if normalized is not None:
            samples = normalized.drift_samples
            summary.rows_carried = dict(normalized.carried)
            summary.warnings = dict(normalized.warnings)
            summary.new_keys = drift_entries(normalized.new_keys, samples)
            summary.wrong_types = drift_entries(normalized.wrong_types, samples)
            summary.repeats = drift_entries(normalized.repeats, samples)
            summary.conflicts = drift_entries(normalized.conflicts, samples)
            summary.disagreements = drift_entries(normalized.disagreements, samples)
            summary.coverage = coverage_entries(
                normalized.objects, normalized.unmapped, normalized.unmapped_keys
            )
        return summary

    @classmethod
    def of_sealed(cls, note: NightNote, file_warnings: list[str] | None = None) -> NightSummary:
        """The figures of a sealed night published by a later run: no request tonight; the
        calls its extraction made count as resumed."""
        report = ExtractReport(
            calls_resumed=sum(note.calls.values()), failed_calls=note.failed_calls
        )
        return cls(
            extract=report,
            resumed_from_archive=note.snapshot_date,
            file_warnings=list(file_warnings or []),
            **{name: getattr(note, name) for name in NOTED},
        )

    def as_metadata(self) -> dict[str, Any]:
        night = {
            name: value
            for name, value in vars(self).items()
            if name not in ("extract", "plan") and value is not None
        }
        return {**self.extract.published(), **night, **self.plan}

    @classmethod
    def from_metadata(cls, values: Mapping[str, Any]) -> NightSummary:
        """The summary a run stored."""
        night = {f.name for f in dataclasses.fields(cls)} - {"extract", "plan"}
        return cls(
            extract=ExtractReport.from_published(values),
            plan={name: value for name, value in values.items() if name.startswith("plan_")},
            **{name: value for name, value in values.items() if name in night},
        )

    def describe(self) -> list[str]:
        lines = self._resumed_tail() if self.resumed_from_archive else self._night()
        return lines + [f"  warning: {warning}" for warning in self.file_warnings]

    def _resumed_tail(self) -> list[str]:
        report = self.extract
        return [
            self._customers(),
            f"  resumed from the sealed archive of {self.resumed_from_archive}: "
            f"{report.requests:,} requests (its extraction made {report.calls_resumed:,} "
            f"calls, {report.failed_calls:,} failed, before the run stopped; "
            "`badges run --restart` fetches the day again)",
        ]

    def _customers(self) -> str:
        return (
            f"  customers {self.customers:,} (lists fetched for {self.customers_fetched:,}; "
            f"rotation over {self.rotation_nights} night(s), oldest data from "
            f"{self.oldest_fetched_on})"
        )

    def _night(self) -> list[str]:
        report = self.extract
        calls = ", ".join(f"{k} {v:,}" for k, v in sorted(report.calls.items())) or "none"
        planned = self.plan.get("plan_total_calls")
        lines = [
            self._customers(),
            f"  calls per API: {calls}"
            + (f" (planned {planned:,})" if planned is not None else ""),
            f"  requests {report.requests:,} ({round(report.requests_per_second, 1):,}/s in "
            f"{report.seconds}s), retries {report.retries:,}, "
            f"throttled (429) {report.throttled_429:,}",
            f"  details reused from the last snapshot {report.details_reused:,} (kept after a "
            f"failed call {report.details_kept:,}), lists fetched again after drift "
            f"{report.lists_refetched:,}",
            f"  failed calls {report.failed_calls:,}{_by_kind(report.failures_by_kind)}; "
            f"vendor answers (rows in extract_errors) {report.vendor_answers:,}",
        ]
        if report.calls_resumed:
            lines.append(
                f"  resumed: {report.calls_resumed:,} calls answered by an earlier attempt"
            )
        if self.warnings is not None:
            lines += [f"  {line}" for line in describe_warnings(self.warnings)]
        if self.new_keys is not None and self.wrong_types is not None:
            drift = describe_drift(
                self.new_keys,
                self.wrong_types,
                self.repeats,
                self.conflicts,
                self.disagreements,
                self.coverage,
            )
            lines += [f"  {line}" for line in drift]
        return lines


def _by_kind(failures: Mapping[str, int]) -> str:
    """Failed calls by kind, e.g. " (http_5xx 3, timeout 1)"; nothing when none failed."""
    kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(failures.items()) if count)
    return f" ({kinds})" if kinds else ""
