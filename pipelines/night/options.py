"""How a night is run: its window, its gates, what it may reuse, how often it checkpoints."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from pipelines.extract.gate import DEFAULT_MAX_FAILED_SHARE, max_failed_share_from_env
from pipelines.lake.checkpoint import CHECKPOINT_SECONDS
from pipelines.night.volume import DEFAULT_MAX_DROP_SHARE

DEFAULT_NIGHT_HOURS = 6.0
NIGHT_HOURS_VARIABLE = "BADGES_NIGHT_HOURS"
CHECKPOINT_VARIABLE = "BADGES_CHECKPOINT_SECONDS"


@dataclass(frozen=True)
class NightOptions:
    refresh_days: int = 7  # every detail is fetched again at least this often
    full_refresh: bool = False  # fetch every detail, reuse nothing
    rotation_nights: int | None = None  # None: the planner chooses
    night_hours: float = DEFAULT_NIGHT_HOURS
    max_failed_share: float = DEFAULT_MAX_FAILED_SHARE
    max_drop_share: float = DEFAULT_MAX_DROP_SHARE
    accept_drop: bool = False
    checkpoint_seconds: float = CHECKPOINT_SECONDS  # answers a kill may cost, at most
    restart: bool = False  # discard the day's checkpoint: the night starts from scratch


def night_options(
    night_hours: float | None = None, max_failed_share: float | None = None, **given: Any
) -> NightOptions:
    """Options as given, the rest from the environment (`BADGES_NIGHT_HOURS`,
    `BADGES_MAX_FAILED_SHARE`, `BADGES_CHECKPOINT_SECONDS`) or the defaults."""
    if night_hours is None:
        text = os.environ.get(NIGHT_HOURS_VARIABLE)
        night_hours = float(text) if text else DEFAULT_NIGHT_HOURS
    if max_failed_share is None:
        max_failed_share = max_failed_share_from_env()
    if night_hours <= 0:
        raise ValueError(f"{NIGHT_HOURS_VARIABLE}: the night must last more than 0 hours")
    if "checkpoint_seconds" not in given and os.environ.get(CHECKPOINT_VARIABLE):
        given["checkpoint_seconds"] = float(os.environ[CHECKPOINT_VARIABLE])
    return NightOptions(night_hours=night_hours, max_failed_share=max_failed_share, **given)
