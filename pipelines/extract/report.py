"""What a night's extraction did, and the gate it is watched by."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipelines.extract.gate import CallTally


@dataclass
class ExtractReport:
    customers: int = 0  # customers whose lists were to be fetched tonight
    unlisted: set[tuple[str, str]] = field(default_factory=set)  # of those, lists failed
    badges: int = 0
    pairs: int = 0
    calls: Counter[str] = field(default_factory=Counter)  # calls made this attempt, per API
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    failed_calls: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # failed calls by kind
    errors_by_code: Counter[str] = field(default_factory=Counter)  # extract_errors rows
    vendor_answers: int = 0
    answered_calls: int = 0  # calls with an answer, resumed ones included
    calls_resumed: int = 0  # answered by an earlier attempt of the night
    lists_refetched: int = 0
    details_reused: int = 0
    details_kept: int = 0  # last detail kept because tonight's call got no answer
    pairs_reusable: int = 0
    pairs_changed: int = 0
    token_renewals: int = 0
    bytes_received: int = 0
    raw_records: int = 0
    seconds: float = 0.0
    found_rates: dict[str, float] = field(default_factory=dict)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def tally(self) -> CallTally:
        return CallTally(answered=self.answered_calls, failed=Counter(self.failures))


@dataclass(frozen=True)
class GateWatch:
    max_failed_share: float
    expected_calls: int | None  # the plan's estimate of the night's calls
