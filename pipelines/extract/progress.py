"""Live figures of an extraction, reported at a steady interval while it runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.client.http import ClientStats


@dataclass(frozen=True)
class ProgressFigures:
    customers_done: int
    customers_total: int
    requests: int
    requests_per_second: float
    retries: int
    throttled: int
    errors: int
    elapsed_seconds: float

    @property
    def eta_seconds(self) -> float | None:
        if not self.customers_done:
            return None
        remaining = self.customers_total - self.customers_done
        return remaining * self.elapsed_seconds / self.customers_done

    def describe(self) -> str:
        eta = self.eta_seconds
        return (
            f"{self.customers_done}/{self.customers_total} customers, "
            f"{self.requests} requests ({self.requests_per_second:,.0f}/s), "
            f"{self.retries} retries, {self.throttled} throttled (429), {self.errors} failed, "
            f"ETA {'?' if eta is None else f'{eta:,.0f}s'}"
        )


ProgressCallback = Callable[[ProgressFigures], None]


class ProgressTracker:
    def __init__(self, customers_total: int, stats: ClientStats) -> None:
        self.customers_total = customers_total
        self.customers_done = 0
        self._stats = stats
        self._started = time.monotonic()

    def figures(self) -> ProgressFigures:
        elapsed = time.monotonic() - self._started
        return ProgressFigures(
            customers_done=self.customers_done,
            customers_total=self.customers_total,
            requests=self._stats.sent,
            requests_per_second=self._stats.sent / max(elapsed, 1e-9),
            retries=self._stats.retries,
            throttled=self._stats.throttled,
            errors=self._stats.failed_calls,
            elapsed_seconds=elapsed,
        )

    async def report_every(self, seconds: float, callback: ProgressCallback) -> None:
        while True:
            await asyncio.sleep(seconds)
            callback(self.figures())
