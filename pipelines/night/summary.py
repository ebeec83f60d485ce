"""The night's figures as one typed record: the extract asset stores it as its metadata
(one key per field) and `badges run` reads it back to print the night's summary."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelines.extract.planning import NightPlan
from pipelines.extract.report import ExtractReport
from pipelines.lake.nightrecord import NightNote


@dataclass
class NightSummary:
    customers: int = 0  # the night's population
    customers_fetched: int = 0  # whose lists were fetched tonight
    rotation_nights: int = 1
    oldest_fetched_on: str | None = None
    carried_from: str | None = None  # the snapshot carried customers' rows come from
    badges: int = 0
    pairs: int = 0
    calls: dict[str, int] = field(default_factory=dict)  # this attempt's, per API
    calls_resumed: int = 0  # answered by an earlier attempt of the night
    requests: int = 0
    requests_per_second: float = 0.0
    retries: int = 0
    throttled_429: int = 0
    failed_calls: int = 0
    failures_by_kind: dict[str, int] = field(default_factory=dict)
    vendor_answers: int = 0  # extract_errors rows the vendor answered
    errors_by_code: dict[str, int] = field(default_factory=dict)
    lists_refetched: int = 0  # lists fetched again because their pages disagreed
    details_reused: int = 0
    details_kept: int = 0  # the last detail kept because tonight's call got no answer
    token_renewals: int = 0
    bytes_received: int = 0
    seconds: float = 0.0
    found_rates_per_minute: dict[str, float] = field(default_factory=dict)
    rows_carried: dict[str, int] = field(default_factory=dict)
    plan_rotation_nights: int = 1
    plan_customers_fetched: int = 0
    plan_calls: dict[str, int] = field(default_factory=dict)
    plan_total_calls: int | None = None
    plan_hours: float | None = None
    plan_fits_window: bool | None = None

    @classmethod
    def of(
        cls,
        plan: NightPlan,
        report: ExtractReport,
        note: NightNote | None = None,
        rows_carried: Mapping[str, int] | None = None,
    ) -> NightSummary:
        """The figures of a night that ran (`note` once it was sealed)."""
        hours = plan.hours
        summary = cls(
            customers=plan.customers,
            customers_fetched=report.customers - len(report.unlisted),
            rotation_nights=plan.rotation_nights,
            badges=report.badges,
            pairs=report.pairs,
            calls=dict(report.calls),
            calls_resumed=report.calls_resumed,
            requests=report.requests,
            requests_per_second=round(report.requests_per_second, 1),
            retries=report.retries,
            throttled_429=report.throttled,
            failed_calls=report.failed_calls,
            failures_by_kind=dict(report.failures),
            vendor_answers=report.vendor_answers,
            errors_by_code=dict(report.errors_by_code),
            lists_refetched=report.lists_refetched,
            details_reused=report.details_reused,
            details_kept=report.details_kept,
            token_renewals=report.token_renewals,
            bytes_received=report.bytes_received,
            seconds=round(report.seconds, 2),
            found_rates_per_minute={
                api: round(rate * 60, 1) for api, rate in report.found_rates.items()
            },
            rows_carried=dict(rows_carried or {}),
            plan_rotation_nights=plan.rotation_nights,
            plan_customers_fetched=plan.customers_fetched,
            plan_calls=dict(plan.calls),
            plan_total_calls=plan.total_calls,
            plan_hours=None if hours is None else round(hours, 3),
            plan_fits_window=plan.fits,
        )
        if note is not None:
            summary.customers = note.customers
            summary.rotation_nights = note.rotation_nights
            summary.oldest_fetched_on = note.oldest_fetched_on
            summary.carried_from = note.carried_from
        return summary

    def as_metadata(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_metadata(cls, values: Mapping[str, Any]) -> NightSummary:
        """The summary a run stored (fields it did not store keep their defaults)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{name: value for name, value in values.items() if name in names})

    def describe(self) -> list[str]:
        calls = ", ".join(f"{k} {v:,}" for k, v in sorted(self.calls.items())) or "none"
        planned = self.plan_total_calls
        lines = [
            f"  customers {self.customers:,} (lists fetched for {self.customers_fetched:,}; "
            f"rotation over {self.rotation_nights} night(s), oldest data from "
            f"{self.oldest_fetched_on}), badges {self.badges:,}, "
            f"customer-badge pairs {self.pairs:,}",
            f"  calls: {calls}" + (f" (planned {planned:,})" if planned is not None else ""),
            f"  requests {self.requests:,} ({self.requests_per_second:,}/s in {self.seconds}s), "
            f"retries {self.retries:,}, throttled (429) {self.throttled_429:,}",
            f"  details reused from the last snapshot {self.details_reused:,} (kept after a "
            f"failed call {self.details_kept:,}), lists fetched again after drift "
            f"{self.lists_refetched:,}",
            f"  failed calls {self.failed_calls:,} {self.failures_by_kind}; "
            f"vendor answers (extract_errors) {self.vendor_answers:,}",
        ]
        if self.calls_resumed:
            lines.append(f"  resumed: {self.calls_resumed:,} calls answered by an earlier attempt")
        return lines
