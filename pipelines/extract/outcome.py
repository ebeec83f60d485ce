"""What a night's extraction did, and the gate it is watched by."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelines.client.rates import Rate
from pipelines.extract.gate import CallTally

# Bookkeeping of the extraction itself, not one of the night's published figures.
UNPUBLISHED = {"unpublished": True}


@dataclass
class ExtractReport:
    """The extraction's figures; the night publishes every field not marked UNPUBLISHED
    under its own name (see `pipelines.night.summary`)."""

    customers: int = field(default=0, metadata=UNPUBLISHED)  # whose lists were to be fetched
    unlisted: set[tuple[str, str]] = field(default_factory=set, metadata=UNPUBLISHED)
    badges: int = 0
    pairs: int = 0
    calls: Counter[str] = field(default_factory=Counter)  # calls made this attempt, per API
    calls_resumed: int = 0  # answered by an earlier attempt of the night
    requests: int = 0
    retries: int = 0
    throttled_429: int = 0
    failed_calls: int = 0
    failures_by_kind: Counter[str] = field(default_factory=Counter)  # failed calls by kind
    errors_by_code: Counter[str] = field(default_factory=Counter)  # extract_errors rows
    vendor_answers: int = 0
    answered_calls: int = field(default=0, metadata=UNPUBLISHED)  # resumed ones included
    lists_refetched: int = 0  # lists fetched again because their pages disagreed
    details_reused: int = 0
    details_kept: int = 0  # last detail kept because tonight's call got no answer
    pairs_reusable: int = 0
    pairs_changed: int = 0
    token_renewals: int = 0
    bytes_received: int = 0
    raw_records: int = 0
    seconds: float = 0.0
    found_rates: dict[str, float] = field(default_factory=dict, metadata=UNPUBLISHED)  # per s
    # per API: the limit measured tonight, or remembered and not contradicted
    limits: dict[str, Rate] = field(default_factory=dict, metadata=UNPUBLISHED)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def tally(self) -> CallTally:
        return CallTally(answered=self.answered_calls, failed=Counter(self.failures_by_kind))

    def published(self) -> dict[str, Any]:
        """The published figures: the fields, plus the pace and the found limits per minute."""
        figures = {
            f.name: dict(value) if isinstance(value := getattr(self, f.name), Counter) else value
            for f in dataclasses.fields(self)
            if not f.metadata.get("unpublished")
        }
        figures["seconds"] = round(self.seconds, 2)
        figures["requests_per_second"] = round(self.requests_per_second, 1)
        figures["found_rates_per_minute"] = {
            api: round(rate * 60, 1) for api, rate in self.found_rates.items()
        }
        return figures

    @classmethod
    def from_published(cls, values: Mapping[str, Any]) -> ExtractReport:
        """The report as far as its published figures tell (bookkeeping left at defaults)."""
        names = {f.name for f in dataclasses.fields(cls) if not f.metadata.get("unpublished")}
        return cls(**{name: value for name, value in values.items() if name in names})


@dataclass(frozen=True)
class GateWatch:
    max_failed_share: float
    expected_calls: int | None  # the plan's estimate of the night's calls
