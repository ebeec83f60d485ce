"""How a night is run: its window, its gates, what it may reuse, how often it checkpoints."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.extract.gate import DEFAULT_MAX_FAILED_SHARE
from pipelines.lake.checkpoint import CHECKPOINT_SECONDS
from pipelines.night.volume import DEFAULT_MAX_DROP_SHARE

DEFAULT_NIGHT_HOURS = 6.0


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
