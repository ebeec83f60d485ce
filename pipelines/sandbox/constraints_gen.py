"""Generated constraints: every constraint type of the spec appears, cycling by badge position."""

from __future__ import annotations

import random

from pipelines.sandbox.model import UNITS, Constraint, Window

# (unit, (min, max) length, (min, max) limit) of the customer's paired rolling windows
PAIRED_ROLLING = (("DAYS", (1, 7), (1, 3)), ("WEEKS", (1, 2), (2, 5)), ("MONTHS", (1, 3), (3, 10)))
BADGE_ROLLING_LIMITS = {"DAYS": (2, 10), "WEEKS": (5, 30), "MONTHS": (10, 80)}
FIXED_WINDOW_LENGTHS = {"DAYS": (3, 10), "WEEKS": (1, 2), "MONTHS": (1, 1)}
# The spec's example puts a CUSTOMER_BADGE_FIXED_WINDOW inside badgeConstraints; so does this one.
MISPLACED_FIXED_WINDOW_POSITION = 4


def _uuid(rng: random.Random) -> str:
    text = f"{rng.getrandbits(128):032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def fixed_value(level: str, limit: int) -> Constraint:
    prefix = "CUSTOMER_BADGE" if level == "CUSTOMER" else "BADGE"
    return Constraint(level, "FIXED_VALUE", f"{prefix}_FIXED_VALUE", [Window(max_earn_limit=limit)])


def no_limit(level: str) -> Constraint:
    prefix = "CUSTOMER_BADGE" if level == "CUSTOMER" else "BADGE"
    return Constraint(level, "NO_LIMIT", f"{prefix}_NO_LIMIT", [Window()])


def fixed_window(
    rng: random.Random, level: str, raw_type: str, limit: int, starts: int, ends: int
) -> Constraint:
    unit = rng.choice(UNITS)
    low, high = FIXED_WINDOW_LENGTHS[unit]
    return Constraint(
        level,
        "FIXED_WINDOW",
        raw_type,
        [Window(unit, rng.randint(low, high), limit)],
        reference_id=_uuid(rng),
        starts_us=starts,
        ends_us=ends,
        start_day_of_week="TUESDAY" if unit == "WEEKS" else None,
    )


def paired_rolling(rng: random.Random) -> Constraint:
    windows = [
        Window(unit, rng.randint(*lengths), rng.randint(*limits))
        for unit, lengths, limits in PAIRED_ROLLING
        if rng.random() < 0.7
    ]
    if not windows:
        windows = [Window("DAYS", 2, 3)]
    return Constraint("CUSTOMER", "ROLLING_WINDOW", "CUSTOMER_BADGE_ROLLING_WINDOW", windows)


def badge_rolling(rng: random.Random, unit: str) -> Constraint:
    window = Window(unit, 1, rng.randint(*BADGE_ROLLING_LIMITS[unit]))
    return Constraint("BADGE", "ROLLING_WINDOW", "BADGE_ROLLING_WINDOW", [window])


def customer_constraints(
    rng: random.Random, position: int, starts: int, ends: int
) -> list[Constraint]:
    pattern = position % 6
    if pattern == 0:
        return [fixed_value("CUSTOMER", rng.randint(1, 8))]
    if pattern == 1:
        return [paired_rolling(rng)]
    if pattern == 2:
        return [paired_rolling(rng), fixed_value("CUSTOMER", rng.randint(3, 12))]
    if pattern == 3:
        limit = rng.randint(1, 3)
        return [fixed_window(rng, "CUSTOMER", "CUSTOMER_BADGE_FIXED_WINDOW", limit, starts, ends)]
    if pattern == 4:
        return [no_limit("CUSTOMER")]
    return []


def badge_constraints(
    rng: random.Random, position: int, starts: int, ends: int, customers: int
) -> list[Constraint]:
    overall = fixed_value("BADGE", rng.randint(max(5, customers // 20), max(10, customers)))
    if position == MISPLACED_FIXED_WINDOW_POSITION:
        misplaced = fixed_window(rng, "BADGE", "CUSTOMER_BADGE_FIXED_WINDOW", 40, starts, ends)
        return [overall, misplaced]
    pattern = position % 5
    if pattern == 0:
        return [overall]
    if pattern == 1:
        units = rng.sample(UNITS, rng.randint(1, 3))
        return [overall, *(badge_rolling(rng, unit) for unit in units)]
    if pattern == 2:
        limit = rng.randint(5, 50)
        return [fixed_window(rng, "BADGE", "BADGE_FIXED_WINDOW", limit, starts, ends)]
    if pattern == 3:
        return [no_limit("BADGE")]
    return [badge_rolling(rng, "DAYS"), badge_rolling(rng, "WEEKS")] if rng.random() < 0.6 else []
