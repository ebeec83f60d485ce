"""Constraints in the two shapes of the spec: meta/list shape and detail shape."""

from __future__ import annotations

from collections.abc import Callable

from pipelines.sandbox.model import Constraint, cycle_status, fixed_cycle, window_counts

EpochWriter = Callable[[int | None], str | None]
IsoWriter = Callable[[int | None], str | None]

DETAIL_TYPES = {
    "FIXED_VALUE": "OVERALL",
    "FIXED_WINDOW": "FIXED_WINDOW",
    "ROLLING_WINDOW": "ROLLING_WINDOW",
    "NO_LIMIT": "NO_LIMIT",
}
PAIR_KEYS = {
    "DAYS": ("maxEarnForDays", "rollForDays"),
    "WEEKS": ("maxEarnForWeeks", "rollForWeeks"),
    "MONTHS": ("maxEarnForMonths", "rollForMonths"),
}
STAT_KEYS = {
    "DAYS": "currentEarnCountDays",
    "WEEKS": "currentEarnCountWeeks",
    "MONTHS": "currentEarnCountMonths",
}


def meta_constraint(
    constraint: Constraint, epoch: EpochWriter, iso: IsoWriter, as_of_us: int, full: bool
) -> dict:
    """Meta shape (`full`: with ISO twins and currentCycle) or list shape (without)."""
    body: dict = {"constraintType": constraint.raw_type}
    window = constraint.windows[0]
    if constraint.kind == "FIXED_VALUE":
        body["maxEarnLimit"] = window.max_earn_limit
    elif constraint.is_paired_rolling:
        present = {w.unit: w for w in constraint.windows}
        for unit, (max_key, roll_key) in PAIR_KEYS.items():
            pair = present.get(unit)
            body[max_key] = pair.max_earn_limit if pair else None
            body[roll_key] = pair.length if pair else None
    elif constraint.kind == "ROLLING_WINDOW":
        body |= {"rollType": window.unit, "rollValue": window.length}
        body["maxEarnLimit"] = window.max_earn_limit
    elif constraint.kind == "FIXED_WINDOW":
        body |= _meta_fixed_window(constraint, epoch, iso, as_of_us, full)
    return body


def _meta_fixed_window(
    constraint: Constraint, epoch: EpochWriter, iso: IsoWriter, as_of_us: int, full: bool
) -> dict:
    window = constraint.windows[0]
    body: dict = {
        "referenceId": constraint.reference_id,
        "durationType": window.unit,
        "refreshRate": window.length,
    }
    if constraint.start_day_of_week:
        body["startDayOfTheWeek"] = constraint.start_day_of_week
    body |= {
        "maxEarnLimit": window.max_earn_limit,
        "cycleStatus": cycle_status(constraint, as_of_us),
        "startDate": epoch(constraint.starts_us),
    }
    if full:
        body["startDateISO"] = iso(constraint.starts_us)
    body["endDate"] = epoch(constraint.ends_us)
    if full:
        body["endDateISO"] = iso(constraint.ends_us)
        start, end = fixed_cycle(constraint, window, as_of_us)
        body["currentCycle"] = {
            "startDate": epoch(start),
            "startDateISO": iso(start),
            "endDate": epoch(end),
            "endDateISO": iso(end),
        }
    return body


def detail_constraint(
    constraint: Constraint, times: list[int] | None, epoch: EpochWriter, as_of_us: int
) -> dict:
    """Detail shape; `times` are the earns the constraint counts (None: no statistics)."""
    window = constraint.windows[0]
    paired = constraint.is_paired_rolling
    fixed = constraint.kind == "FIXED_WINDOW"
    status = cycle_status(constraint, as_of_us) if fixed else None
    body: dict = {
        "constraintLevel": constraint.level,
        "constraintType": DETAIL_TYPES[constraint.kind],
        "rollType": window.unit if constraint.kind == "ROLLING_WINDOW" and not paired else None,
        "refreshRate": window.length if fixed else None,
        "durationType": window.unit if fixed else None,
        "cycleStatus": status,
        "startDayOfTheWeek": constraint.start_day_of_week,
        "rollValue": window.length if constraint.kind == "ROLLING_WINDOW" and not paired else None,
        "maxEarnLimit": None if paired else window.max_earn_limit,
    }
    if times is not None:
        body["earnConstraintBlockStatistics"] = _statistics(constraint, times, as_of_us)
    cycle = None
    if fixed and status != "UPCOMING":
        start, end = fixed_cycle(constraint, window, as_of_us)
        cycle = {"startDate": epoch(start), "endDate": epoch(end)}
    body |= {
        "fixedWindowCycle": cycle,
        "fixedWindowReferenceId": constraint.reference_id,
        "rollingWindowLimits": [
            {"rollType": w.unit, "rollValue": w.length, "maxEarnLimit": w.max_earn_limit}
            for w in constraint.windows
        ]
        if paired
        else None,
    }
    return body


def _statistics(constraint: Constraint, times: list[int], as_of_us: int) -> dict:
    stats: dict = {"currentEarnCount": None, **dict.fromkeys(STAT_KEYS.values())}
    counts = window_counts(constraint, times, as_of_us)
    if constraint.is_paired_rolling:
        for count in counts:
            stats[STAT_KEYS[count.window.unit or "DAYS"]] = count.count
    else:
        stats["currentEarnCount"] = counts[0].count
    return stats
