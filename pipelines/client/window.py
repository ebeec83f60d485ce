"""The server's fixed window as one API's 429s reveal it: its count, length and phase.

A window reset is found at the first answer after a pause, some time after the last
refusal. The count accepted between two resets one window apart is exact. The length is
the time between two resets over the windows between them, measured from the sharpest
reset found (the one found closest after a refusal), so its error shrinks as the night
goes on; a reset found long after the last refusal is placed where the known length puts
it, when that lies between the two.
"""

from __future__ import annotations

import math

from pipelines.client.rates import Rate

SHORTER = 0.75  # an interval this much shorter than the window: the window was a multiple
COUNT_SLACK = 0.2  # of a window's count: more answers than this past it span one more window


class ServerWindow:
    def __init__(self, remembered: Rate | None = None) -> None:
        self.count = remembered.count if remembered else None  # requests accepted per window
        self.seconds = remembered.window_seconds if remembered else None  # its length
        self.reset_at: float | None = None  # the last reset, as estimated
        self._reset_width = math.inf  # how long after the last refusal it was found
        self._anchor = 0.0  # the reset the length is measured from
        self._anchor_width = math.inf
        self._windows_counted = 0  # windows since the anchor

    @property
    def measured(self) -> Rate | None:
        """The count per length, once both are known."""
        if self.count is None or self.seconds is None:
            return None
        return Rate(self.count, round(self.seconds, 3))

    def reset(
        self, refused_at: float, answered_at: float, accepted: int, since: float
    ) -> float | None:
        """A reset between the last refusal and the first answer after it, `accepted`
        answers after the last reset (or `since` the first request); the limit in
        requests/s it shows, None when it shows none."""
        reset, width = (refused_at + answered_at) / 2, answered_at - refused_at
        found = None
        if self.reset_at is not None:
            reset, found = self._after_another(refused_at, answered_at, accepted)
        elif self.seconds is not None:  # remembered: the window's phase is known now
            self._anchor, self._anchor_width, self._windows_counted = reset, width, 0
        elif reset > since and accepted:
            # joined mid-window: the rate is overstated, and the next window shows it
            self.count = accepted
            found = accepted / (reset - since)
        self.reset_at, self._reset_width = reset, width
        return found

    def expected_reset(self, now: float, early: float) -> float | None:
        """`early` (a share of the window) before the next reset after `now`."""
        if self.seconds is None or self.reset_at is None:
            return None
        windows = math.floor((now - self.reset_at) / self.seconds) + 1
        return self.reset_at + (windows - early) * self.seconds

    def _after_another(
        self, refused_at: float, answered_at: float, accepted: int
    ) -> tuple[float, float | None]:
        assert self.reset_at is not None
        reset, width = (refused_at + answered_at) / 2, answered_at - refused_at
        interval = reset - self.reset_at
        if interval <= 0 or not accepted:
            return reset, None
        windows = self._windows_between(interval, accepted)
        if self.seconds is None or interval < SHORTER * self.seconds:
            self._anchor, self._anchor_width = self.reset_at, self._reset_width
            self._windows_counted = windows
        else:
            self._windows_counted += windows
            expected = self._anchor + self._windows_counted * self.seconds
            if refused_at < expected <= answered_at:
                reset = expected
        self.seconds = (reset - self._anchor) / self._windows_counted
        if width < self._anchor_width:
            self._anchor, self._anchor_width, self._windows_counted = reset, width, 0
        if windows == 1 or self.count is None:
            self.count = accepted // windows
        return reset, self.count / self.seconds

    def _windows_between(self, interval: float, accepted: int) -> int:
        """By time, once the length is known, and at least as many as the answers need
        (a window accepts no more than its count)."""
        by_time = round(interval / self.seconds) if self.seconds else 1
        by_count = math.ceil(accepted / self.count - COUNT_SLACK) if self.count else 1
        return max(1, by_time, by_count)
