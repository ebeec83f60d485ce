"""The publish gate: a snapshot is published only when it can be stood behind.

A vendor answer about the data (1026 unknown customer, 404 unknown badge) is a row of
`extract_errors` and costs nothing. A call that got no answer after its retries is a
failure; when failures pass `max_failed_share` of the night's calls the snapshot is
refused, and as soon as they pass that share of the calls planned for the night the
extraction stops: the outcome can no longer change.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipelines.client.errors import FAILURE_LABELS

DEFAULT_MAX_FAILED_SHARE = 0.005
EXPECTED_MARGIN = 1.25


class SnapshotRefused(RuntimeError):
    """The night's snapshot may not be published; what was fetched is kept for a rerun."""


def parse_share(text: str, source: str) -> float:
    """`0.005` or `0.5%` -> 0.005."""
    try:
        value = float(text[:-1]) / 100 if text.strip().endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"{source}: {text!r} is not a share (e.g. 0.005 or 0.5%)") from None
    if not 0 <= value <= 1:
        raise ValueError(f"{source}: {text!r} must be between 0 and 1 (0% and 100%)")
    return value


@dataclass
class CallTally:
    answered: int = 0  # calls with an answer, this attempt's and resumed ones
    failed: Counter[str] = field(default_factory=Counter)  # calls without one, by kind

    @property
    def failed_calls(self) -> int:
        return sum(self.failed.values())

    @property
    def calls(self) -> int:
        return self.answered + self.failed_calls

    @property
    def failed_share(self) -> float:
        return self.failed_calls / self.calls if self.calls else 0.0

    def kinds(self) -> str:
        """`5xx 412, timeouts 37`."""
        return ", ".join(
            f"{FAILURE_LABELS.get(kind, kind)} {count:,}"
            for kind, count in self.failed.most_common()
        )


def refusal(tally: CallTally, max_failed_share: float) -> str | None:
    """Why the snapshot may not be published, or None when it may."""
    if tally.failed_share <= max_failed_share:
        return None
    return (
        f"{tally.failed_share:.1%} of calls failed ({tally.failed_calls:,} of {tally.calls:,}, "
        f"more than the {max_failed_share:.1%} allowed): {tally.kinds()}"
    )


def doomed(tally: CallTally, max_failed_share: float, expected_calls: int | None) -> str | None:
    """Why the night can no longer pass the gate, or None while it still can.

    `expected_calls` is the plan's estimate of the night's calls (None when the plan
    cannot tell, e.g. on a first night); a margin of EXPECTED_MARGIN covers its error.
    """
    if expected_calls is None:
        return None
    ceiling = max(round(expected_calls * EXPECTED_MARGIN), tally.calls)
    if tally.failed_calls <= max_failed_share * ceiling:
        return None
    return (
        f"{tally.failed_calls:,} calls failed already, more than {max_failed_share:.1%} of "
        f"the night's {ceiling:,} calls at most: {tally.kinds()}"
    )
