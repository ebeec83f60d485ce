"""Rate limits as the vendor states them: a count per window, per API.

`100/min` applies to every API; `customer_badges=600/min,badge_meta=60/min` names APIs
(the ones not named get no stated limit). A window is `s`, `min` or `h`, optionally with
a length: `20/2s`, `500/5min`. The client paces to these budgets and the sandbox enforces
them the vendor's way, so both read the same text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pipelines.client.endpoints import API_NAMES

_UNIT_SECONDS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*\.?\d*)\s*([a-z]+)\s*$")


class RateSpecError(ValueError):
    """A rate limit text that cannot be read."""


@dataclass(frozen=True)
class Rate:
    """`count` requests per `window_seconds`, counted in fixed windows."""

    count: int
    window_seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.window_seconds

    def __str__(self) -> str:
        window = self.window_seconds
        for unit, seconds in (("h", 3600.0), ("min", 60.0), ("s", 1.0)):
            if window >= seconds and (window / seconds).is_integer():
                length = int(window / seconds)
                return f"{self.count}/{'' if length == 1 else length}{unit}"
        return f"{self.count}/{window:g}s"


def parse_rate(text: str, source: str = "rate limit") -> Rate:
    """`100/min` -> Rate(100, 60.0)."""
    match = _RATE.match(text.lower())
    unit_seconds = _UNIT_SECONDS.get(match.group(3)) if match else None
    if match is None or unit_seconds is None:
        raise RateSpecError(
            f"{source}: cannot read {text!r}; expected COUNT/WINDOW such as 100/min, 10/s, 20/2s"
        )
    length = float(match.group(2)) if match.group(2) else 1.0
    count = int(match.group(1))
    if count < 1 or length <= 0:
        raise RateSpecError(f"{source}: {text!r} must allow at least 1 request per window")
    return Rate(count, length * unit_seconds)


def parse_rate_limits(
    text: str | None, source: str = "CAPILLARY_RATE_LIMIT", apis: Iterable[str] = API_NAMES
) -> dict[str, Rate]:
    """The limit of each API named (or of every API, for a bare `COUNT/WINDOW`)."""
    known = tuple(apis)
    if text is None or not text.strip():
        return {}
    if "=" not in text:
        rate = parse_rate(text, source)
        return dict.fromkeys(known, rate)
    limits: dict[str, Rate] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, separator, value = part.partition("=")
        name = name.strip()
        if not separator or name not in known:
            raise RateSpecError(
                f"{source}: {part!r} does not name an API; use one of {', '.join(known)} "
                "(e.g. customer_badges=600/min) or a bare limit for all (e.g. 100/min)"
            )
        limits[name] = parse_rate(value, f"{source} ({name})")
    return limits
